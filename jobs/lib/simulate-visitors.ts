// Who the replay emails and what counts as a success. Pure: no I/O.
import type { Purchase } from './simulate-data.ts';

export interface BasketLine {
  item: string;
  quantity: number;
  price: number | null;
}

export interface Visitor {
  user: string;
  /** What they bought on their first day back after the cut-off (UTC), one line per item. */
  basket: BasketLine[];
}

export interface Hit extends BasketLine {
  position: number;
  link: string;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** Every user who bought after the cut-off, by id; their next basket is their first such day. */
export function visitors(purchases: readonly Purchase[]): Visitor[] {
  const firstDay = new Map<string, string>();
  for (const p of purchases) {
    const d = day(p.at);
    const seen = firstDay.get(p.user);
    if (seen === undefined || d < seen) firstDay.set(p.user, d);
  }
  const baskets = new Map<string, Map<string, BasketLine>>();
  for (const p of purchases) {
    if (day(p.at) !== firstDay.get(p.user)) continue;
    const basket = baskets.get(p.user) ?? new Map<string, BasketLine>();
    const line = basket.get(p.item);
    // The same item twice that day: quantities add up, the first unit price stands.
    if (line) line.quantity += p.quantity;
    else basket.set(p.item, { item: p.item, quantity: p.quantity, price: p.price });
    baskets.set(p.user, basket);
  }
  return [...baskets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([user, basket]) => ({ user, basket: [...basket.values()] }));
}

/** The items of the block the visitor really bought next: each one is clicked, then bought. */
export function hits(block: readonly { id: string; position: number; link: string | null }[], basket: readonly BasketLine[]): Hit[] {
  const bought = new Map(basket.map((line) => [line.item, line]));
  return block.flatMap((item) => {
    const line = bought.get(item.id);
    return line && item.link !== null ? [{ ...line, position: item.position, link: item.link }] : [];
  });
}

/** A user's `count` most recently bought items before the cut-off, newest first (ties by id). */
export function recentItems(lastBought: ReadonlyMap<string, number> | undefined, count: number): { item: string; at: number }[] {
  if (!lastBought) return [];
  return [...lastBought]
    .map(([item, at]) => ({ item, at }))
    .sort((a, b) => b.at - a.at || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0))
    .slice(0, count);
}
