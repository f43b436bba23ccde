// How model data is encoded in Redis values: written by the build, read by the API.
import type { NeighbourLists } from '../../cf/neighbours.ts';
import { slottedList, type SlottedList } from '../../cf/personalize.ts';
import type { PackedNeighbours } from '../../recommend/types.ts';
import type { ItemSlots } from './item-slots.ts';

/**
 * JSON of item i's neighbour list; 6 significant digits halve the bytes. Rounding can make
 * neighbours tie, so the list is re-ordered as personalize() ranks (score, then smaller id):
 * a single seed's list is then served exactly as stored (src/recommend/collaborative.ts).
 */
export function packNeighbours(model: NeighbourLists, item: number): string {
  const entries: { id: string; score: number }[] = [];
  for (let k = model.offsets[item]; k < model.offsets[item + 1]; k++) {
    entries.push({ id: model.itemIds[model.neighbours[k]], score: Number(model.scores[k].toPrecision(6)) });
  }
  entries.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return JSON.stringify({ ids: entries.map((e) => e.id), scores: entries.map((e) => e.score) } satisfies PackedNeighbours);
}

/** A stored neighbour list, its ids numbered in `slots` (the numbering of its model version). */
export function unpackNeighbours(raw: string | null, slots: ItemSlots): SlottedList {
  const { ids, scores } = raw ? (JSON.parse(raw) as PackedNeighbours) : { ids: [], scores: [] };
  return slottedList(ids, scores, Int32Array.from(ids, (id) => slots.slotOf(id)));
}
