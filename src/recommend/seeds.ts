import { affinity } from '../cf/affinity.ts';
import type { CatalogFields } from '../store/model-format.ts';
import type { EventType } from '../config.ts';
import type { ModelView, UserHistory } from './types.ts';

/**
 * The distinct values of a catalog field (brand, category) over the seeds, in seed order,
 * each with the first seed that has it: the lists to read and the `because` of each.
 */
export async function seedGroups(model: ModelView, seeds: readonly string[], field: 'brand' | 'category'): Promise<{ values: string[]; because: string[] }> {
  const fields: (CatalogFields | null)[] = await model.items(seeds);
  const firstSeed = new Map<string, string>();
  fields.forEach((f, i) => {
    const value = f?.[field];
    if (value && !firstSeed.has(value)) firstSeed.set(value, seeds[i]);
  });
  return { values: [...firstSeed.keys()], because: [...firstSeed.values()] };
}

/**
 * A user's seeds and their weights (affinities): recent views (newest first) and, when asked,
 * purchases, at most `maxSeeds`. The bought set has no order, so when it must be cut it is
 * cut in id order: the same user gets the same answer.
 */
export function userSeeds(history: UserHistory, withBought: boolean, options: { maxSeeds: number; eventWeights: Record<EventType, number> }): Map<string, number> {
  const events = history.viewed.slice(0, options.maxSeeds).map((v) => ({ item: v.id, weight: options.eventWeights.view, ts: v.at / 1000 }));
  if (withBought) {
    const room = options.maxSeeds - events.length;
    const bought = history.bought.length > room ? smallest(history.bought, room) : history.bought;
    for (const item of bought) events.push({ item, weight: options.eventWeights.purchase, ts: 0 });
  }
  // No decay: the bought set carries no times, and recent views are recent by definition.
  return affinity(events, { now: 0, halfLifeDays: 0 });
}

/** The n smallest ids, ascending, without sorting them all (a big buyer has thousands). */
export function smallest(ids: Iterable<string>, n: number): string[] {
  const kept: string[] = [];
  if (n <= 0) return kept;
  for (const id of ids) {
    if (kept.length === n && id >= kept[n - 1]) continue;
    let at = kept.length === n ? n - 1 : kept.length;
    while (at > 0 && kept[at - 1] > id) {
      kept[at] = kept[at - 1];
      at--;
    }
    kept[at] = id;
  }
  return kept;
}
