import { affinity } from '../cf/affinity.ts';
import type { CatalogFields } from './types.ts';
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
 * A user's seeds and their weights (affinities): recent views and, when asked, purchases, each
 * newest first, at most `maxSeeds`: a big buyer is seeded by their latest purchases.
 */
export function userSeeds(history: UserHistory, withBought: boolean, options: { maxSeeds: number; eventWeights: Record<EventType, number> }): Map<string, number> {
  const events = history.viewed.slice(0, options.maxSeeds).map((v) => ({ item: v.id, weight: options.eventWeights.view, ts: v.at / 1000 }));
  if (withBought) {
    // A purchase also among the views adds its weight to that seed without taking a place.
    const seeds = new Set(events.map((e) => e.item));
    let room = options.maxSeeds - seeds.size;
    for (const item of history.bought) {
      if (!seeds.has(item)) {
        if (room === 0) continue;
        seeds.add(item);
        room--;
      }
      events.push({ item, weight: options.eventWeights.purchase, ts: 0 });
    }
  }
  // No decay: the seeds are the newest views and purchases already.
  return affinity(events, { now: 0, halfLifeDays: 0 });
}
