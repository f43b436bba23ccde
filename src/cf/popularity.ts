// Item popularity and its rankings: overall, and per group (brand, category).

import { userItemMatrix } from './csr.ts';
import type { Interactions } from './interactions.ts';

export interface PopularityOptions {
  /** 0 (default) = no decay: a year-old purchase counts as much as today's. */
  halfLifeDays?: number;
  /** Reference time of the decay, unix seconds. */
  now?: number;
}

export interface RankedItems {
  ids: string[];
  scores: number[];
}

/**
 * Per item, the weighted count of distinct users: each user counts once, with the
 * weight (× decay) of their strongest event on the item, so one wholesaler
 * re-ordering an item 50 times does not make it popular.
 */
export function itemPopularity(x: Interactions, options: PopularityOptions = {}): Float64Array {
  const m = userItemMatrix(x, { ...options, combine: 'max' });
  const popularity = new Float64Array(m.nCols);
  for (let e = 0; e < m.indices.length; e++) popularity[m.indices[e]] += m.values[e];
  return popularity;
}

/** Items with popularity > 0, most popular first; ties → smaller id. */
export function rankItems(popularity: Float64Array, itemIds: readonly string[], limit = Infinity): RankedItems {
  const order = rankedIndices(popularity, Array.from(popularity.keys()));
  return toRanked(order.slice(0, limit), popularity, itemIds);
}

/** For each group (e.g. brand), its items ranked as rankItems() does. Items without a group are left out. */
export function rankByGroup(popularity: Float64Array, itemIds: readonly string[], groupOf: ReadonlyMap<string, string>, limit = Infinity): Map<string, RankedItems> {
  const members = new Map<string, number[]>();
  itemIds.forEach((id, i) => {
    const group = groupOf.get(id);
    if (group === undefined) return;
    const list = members.get(group);
    if (list) list.push(i);
    else members.set(group, [i]);
  });
  const out = new Map<string, RankedItems>();
  for (const [group, items] of members) {
    const order = rankedIndices(popularity, items);
    if (order.length > 0) out.set(group, toRanked(order.slice(0, limit), popularity, itemIds));
  }
  return out;
}

// Item indices follow sorted ids, so "smaller index" is "smaller id".
function rankedIndices(popularity: Float64Array, candidates: number[]): number[] {
  return candidates.filter((i) => popularity[i] > 0).sort((a, b) => popularity[b] - popularity[a] || a - b);
}

function toRanked(order: number[], popularity: Float64Array, itemIds: readonly string[]): RankedItems {
  return { ids: order.map((i) => itemIds[i]), scores: order.map((i) => popularity[i]) };
}
