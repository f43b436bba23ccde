// Replenishment: the items a customer is due to buy again, and when, from buy-again's own
// functions (src/cf/repeat), so the audience names the items the buy-again block would show.
import { buyAgain, buyAgainModel, ownItems, type BuyAgainParams } from '../cf/repeat/buy-again.ts';
import { occasionsOf, type Purchase } from '../cf/repeat/occasions.ts';
import type { RepeatLookup } from '../cf/repeat/stats.ts';

/** Items kept per customer. */
export const MAX_DUE_ITEMS = 10;

export interface DueItem {
  item: string;
  /** Days from the reference time until the item's typical gap since it was last bought is over (< 0: overdue). */
  due_in_days: number;
  typical_gap_days: number;
  times_bought: number;
  /** Unix milliseconds. */
  last_bought: number;
  /** Buy-again's probability of a re-buy soon; null when the build fitted no buy-again model. */
  probability: number | null;
}

/** The items due within `days` (overdue ones included). */
export function dueWithin(items: readonly DueItem[], days: number): DueItem[] {
  return items.filter((d) => d.due_in_days <= days);
}

/** The soonest due item's days to due; null without one. */
export function nextDueDays(items: readonly DueItem[]): number | null {
  return items.length === 0 ? null : Math.min(...items.map((d) => d.due_in_days));
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/**
 * A customer's due items as of `now` (unix seconds): those whose next purchase is not overdue
 * by more than one typical gap (past that, the habit has lapsed: a reactivation case, not a
 * replenishment one). With buy-again's fitted parameters: the items it proposes (probability
 * at least its minimum), best first. Without (no model fitted): the items the customer has
 * bought on two occasions or more, soonest due first.
 */
export function dueItems(purchases: readonly Purchase<string>[], lookup: RepeatLookup, params: BuyAgainParams | null, now: number): DueItem[] {
  const ranked =
    params !== null ? buyAgain(purchases, buyAgainModel(lookup, params), { now }).map((r) => ({ item: r.item, because: r.because, probability: r.score })) : ownOnly(purchases, lookup, now);
  const items = ranked.filter((d) => d.because.due_in_days >= -d.because.typical_gap_days).slice(0, MAX_DUE_ITEMS);
  return items.map(({ item, because, probability }) => ({
    item,
    due_in_days: round(because.due_in_days, 1),
    typical_gap_days: round(because.typical_gap_days, 1),
    times_bought: because.times_bought,
    last_bought: because.last_bought,
    probability: probability === null ? null : round(probability, 4),
  }));
}

function ownOnly(purchases: readonly Purchase<string>[], lookup: RepeatLookup, now: number) {
  const own = ownItems(occasionsOf(purchases, lookup.globals.occasionSeconds), lookup, now);
  return own.items
    .map((item, r) => ({ item, because: own.because[r], probability: null }))
    .filter((d) => d.because.times_bought >= 2)
    .sort((a, b) => a.because.due_in_days - b.because.due_in_days || (a.item < b.item ? -1 : 1));
}
