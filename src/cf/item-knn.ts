// Item-based k-nearest-neighbours: similarity over the co-occurrence matrix AᵀA,
// keeping each item's K most similar items (SAR, Mahout/Universal Recommender style).

import type { Similarity } from '../config.ts';
import { forEachCooccurrenceRow, itemTotals } from './cooccurrence.ts';
import { transpose, userItemMatrix, type Csr } from './csr.ts';
import type { Interactions } from './interactions.ts';
import { joinShards, type NeighbourLists, type NeighbourShard } from './neighbours.ts';
import { similarityFn } from './similarity.ts';
import { TopK } from './topk.ts';

export interface ItemKnnOptions {
  similarity: Similarity;
  /** Neighbours kept per item. */
  k: number;
  /** Pairs seen together by fewer users than this are dropped (SAR's threshold). Default 1. */
  minSupport?: number;
  /**
   * Similarity on the weighted matrix (event weights or ratings, time-decayed) instead
   * of the binary one. minSupport still counts users; 'llr' is defined on counts only
   * and refuses it. Default false.
   */
  weighted?: boolean;
  /** Time decay of the weighted matrix (days, 0 = none); only matters when `weighted`. */
  halfLifeDays?: number;
  /** Reference time of the decay, unix seconds. */
  now?: number;
}

/** What a shard needs: plain typed arrays, so it can be posted to a worker_thread as is. */
export interface ItemKnnInput {
  userItems: Csr;
  itemUsers: Csr;
  /** Diagonal of AᵀA (users per item, or Σ w² when weighted). */
  totals: Float64Array;
  /** Users with at least one interaction (the n of lift and LLR). */
  nUsers: number;
}

export function prepareItemKnn(x: Interactions, options: ItemKnnOptions): ItemKnnInput {
  const weighted = options.weighted ?? false;
  if (weighted && options.similarity === 'llr') throw new Error('llr is defined on counts; use it unweighted');
  const userItems = userItemMatrix(x, { halfLifeDays: weighted ? options.halfLifeDays : 0, now: options.now });
  const itemUsers = transpose(userItems);
  let nUsers = 0;
  for (let u = 0; u < userItems.nRows; u++) if (userItems.indptr[u + 1] > userItems.indptr[u]) nUsers++;
  return { userItems, itemUsers, totals: itemTotals(itemUsers, weighted), nUsers };
}

/** Neighbour lists of items [from, to): independent of every other range. */
export function fitItemKnnRange(input: ItemKnnInput, from: number, to: number, options: ItemKnnOptions): NeighbourShard {
  const { k, minSupport = 1, weighted = false } = options;
  const { totals, nUsers } = input;
  const score = similarityFn(options.similarity, nUsers);
  const top = new TopK(k);
  const offsets = new Uint32Array(to - from + 1);
  const neighbours = new Uint32Array((to - from) * k);
  const scores = new Float32Array((to - from) * k);
  let filled = 0;
  forEachCooccurrenceRow(input.userItems, input.itemUsers, from, to, weighted, (row) => {
    const { item, touched, counts, dots } = row;
    const ci = totals[item];
    for (let t = 0; t < row.length; t++) {
      const j = touched[t];
      if (j === item || counts[j] < minSupport) continue;
      const s = score(dots[j], ci, totals[j]);
      if (s > 0) top.push(j, s);
    }
    filled += top.drainInto(neighbours, scores, filled);
    offsets[item - from + 1] = filled;
  });
  return { from, to, offsets, neighbours: neighbours.slice(0, filled), scores: scores.slice(0, filled) };
}

export function fitItemKnn(x: Interactions, options: ItemKnnOptions): NeighbourLists {
  const n = x.itemIds.length;
  return joinShards(x.itemIds, [fitItemKnnRange(prepareItemKnn(x, options), 0, n, options)]);
}
