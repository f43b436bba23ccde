// The model format every item-item model produces and the store publishes:
// per item, its top-K neighbours best first, in flat typed arrays.
import { slottedList, type SlottedList } from './personalize.ts';

export interface NeighbourLists {
  itemIds: string[];
  /** Neighbours of item i are entries offsets[i] .. offsets[i+1]-1 (length nItems + 1). */
  offsets: Uint32Array;
  neighbours: Uint32Array;
  scores: Float32Array;
}

/** Neighbour lists of the items [from, to), e.g. one worker's share of a build. */
export interface NeighbourShard {
  from: number;
  to: number;
  /** Length to - from + 1, starting at 0. */
  offsets: Uint32Array;
  neighbours: Uint32Array;
  scores: Float32Array;
}

/** Joins shards covering 0..itemIds.length-1 (in any order) into one NeighbourLists. */
export function joinShards(itemIds: string[], shards: NeighbourShard[]): NeighbourLists {
  const sorted = [...shards].sort((a, b) => a.from - b.from);
  let expected = 0;
  let total = 0;
  for (const s of sorted) {
    if (s.from !== expected) throw new Error(`shards leave a gap or overlap at item ${expected}`);
    expected = s.to;
    total += s.neighbours.length;
  }
  if (expected !== itemIds.length) throw new Error(`shards end at item ${expected}, not ${itemIds.length}`);
  const offsets = new Uint32Array(itemIds.length + 1);
  const neighbours = new Uint32Array(total);
  const scores = new Float32Array(total);
  let base = 0;
  for (const s of sorted) {
    for (let i = s.from; i < s.to; i++) offsets[i + 1] = base + s.offsets[i - s.from + 1];
    neighbours.set(s.neighbours, base);
    scores.set(s.scores, base);
    base += s.neighbours.length;
  }
  return { itemIds, offsets, neighbours, scores };
}

/**
 * Item i's neighbour list as it is served: 6 significant digits (halving what Redis stores), and
 * re-ordered as personalize() ranks (score, then smaller id), since rounding can make
 * neighbours tie: a single seed's list is then served exactly as stored.
 */
export function rankedNeighbours(model: NeighbourLists, item: number): { ids: string[]; scores: number[] } {
  const entries: { id: string; score: number }[] = [];
  for (let k = model.offsets[item]; k < model.offsets[item + 1]; k++) {
    entries.push({ id: model.itemIds[model.neighbours[k]], score: Number(model.scores[k].toPrecision(6)) });
  }
  entries.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ids: entries.map((e) => e.id), scores: entries.map((e) => e.score) };
}

/** Item i's neighbours as personalize() reads them: ids and scores, slotted by item index. */
export function neighboursOf(model: NeighbourLists, item: number): SlottedList {
  const slots = model.neighbours.subarray(model.offsets[item], model.offsets[item + 1]);
  return slottedList(
    Array.from(slots, (j) => model.itemIds[j]),
    model.scores.subarray(model.offsets[item], model.offsets[item + 1]),
    slots,
  );
}
