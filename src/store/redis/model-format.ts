// How model data is encoded in Redis values: written by the build, read by the API.
import { rankedNeighbours, type NeighbourLists } from '../../cf/neighbours.ts';
import type { ItemRepeat } from '../../cf/repeat/stats.ts';
import { slottedList, type SlottedList } from '../../cf/personalize.ts';
import type { PackedNeighbours } from '../../recommend/types.ts';
import type { ItemSlots } from './item-slots.ts';

/** JSON of item i's neighbour list, as served (src/cf/neighbours.ts rankedNeighbours). */
export function packNeighbours(model: NeighbourLists, item: number): string {
  return JSON.stringify(rankedNeighbours(model, item) satisfies PackedNeighbours);
}

/** A stored neighbour list, its ids numbered in `slots` (the numbering of its model version). */
export function unpackNeighbours(raw: string | null, slots: ItemSlots): SlottedList {
  const { ids, scores } = raw ? (JSON.parse(raw) as PackedNeighbours) : { ids: [], scores: [] };
  return slottedList(
    ids,
    scores,
    Int32Array.from(ids, (id) => slots.slotOf(id)),
  );
}

/** An item's repeat statistics as [buyers, repeat rate, gap μ, gap σ]: a fifth of the JSON of an object. */
export function packItemRepeat(s: ItemRepeat): string {
  return JSON.stringify([s.buyers, s.repeatRate, s.gapMu, s.gapSigma]);
}

export function unpackItemRepeat(raw: string | null): ItemRepeat | null {
  if (raw === null) return null;
  const [buyers, repeatRate, gapMu, gapSigma] = JSON.parse(raw) as number[];
  return { buyers, repeatRate, gapMu, gapSigma };
}
