// Item-based k-nearest-neighbours: similarity over the co-occurrence matrix AᵀA,
// keeping each item's K most similar items (SAR, Mahout/Universal Recommender style).

import type { Similarity } from '../config.ts';
import { forEachCooccurrenceRow, itemRange, itemTotals } from './cooccurrence.ts';
import { transpose, userItemMatrix, type Csr } from './csr.ts';
import type { Interactions } from './interactions.ts';
import type { NeighbourLists, NeighbourShard } from './neighbours.ts';
import { similarityFn } from './similarity.ts';
import { SortAll, TopK } from './topk.ts';

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
  const offsets = new Uint32Array(to - from + 1);
  const kept = fitRows(
    input,
    () => itemRange(from, to),
    options,
    (item, filled) => {
      offsets[item - from + 1] = filled;
    },
  );
  return { from, to, offsets, ...kept };
}

/**
 * The lists of `items` only (ascending indices), every other item's empty: what known seeds
 * read, at the cost of their rows alone. Each list is the one the whole fit gives.
 */
export function fitItemKnnItems(input: ItemKnnInput, items: Uint32Array, options: ItemKnnOptions): Omit<NeighbourLists, 'itemIds'> {
  const offsets = new Uint32Array(input.totals.length + 1);
  const kept = fitRows(
    input,
    () => items,
    options,
    (item, filled) => {
      offsets[item + 1] = filled;
    },
  );
  // An item not computed ends where the one before it did.
  for (let i = 1; i < offsets.length; i++) if (offsets[i] < offsets[i - 1]) offsets[i] = offsets[i - 1];
  return { offsets, ...kept };
}

/** Each row's best k neighbours, in row order; `end(item, filled)` after each row. */
function fitRows(input: ItemKnnInput, rows: () => Iterable<number>, options: ItemKnnOptions, end: (item: number, filled: number) => void): Pick<NeighbourShard, 'neighbours' | 'scores'> {
  const { k, minSupport = 1, weighted = false } = options;
  const { totals, nUsers } = input;
  const nItems = totals.length;
  // Items a row never touched (count 0) are never neighbours, whatever minSupport says.
  const minCount = Math.max(1, minSupport);
  const score = similarityFn(options.similarity, nUsers);
  const top = new TopK(k);
  const all = new SortAll(Math.min(k, nItems));
  const capacity = maxKept(input, rows(), k);
  const neighbours = new Uint32Array(capacity);
  const scores = new Float32Array(capacity);
  let filled = 0;
  forEachCooccurrenceRow(input.userItems, input.itemUsers, rows(), weighted, (row) => {
    const { item, touched, counts, dots } = row;
    const ci = totals[item];
    // The row lists the item itself, so it has at most row.length - 1 candidates. When k keeps
    // them all (always if untruncated, as in SAR), a sort costs less than the heap.
    const keepAll = row.length - 1 <= k;
    const kept = keepAll ? all : top;
    // A row touching many items is read in index order rather than first-visit order: about
    // as cheap, and then pairs with tied scores reach the sort already in order.
    const inOrder = keepAll && 4 * row.length > nItems;
    for (let t = 0, stop = inOrder ? nItems : row.length; t < stop; t++) {
      const j = inOrder ? t : touched[t];
      if (j === item || counts[j] < minCount) continue;
      const s = score(dots[j], ci, totals[j]);
      if (s > 0) kept.push(j, s);
    }
    filled += kept.drainInto(neighbours, scores, filled);
    end(item, filled);
  });
  // Views, not copies: maxKept is a close bound, and the tail never written is never paged in.
  return { neighbours: neighbours.subarray(0, filled), scores: scores.subarray(0, filled) };
}

/**
 * An upper bound on the neighbours the rows keep: per item, k capped by the other items its
 * users have. The output is allocated once at this size: (to - from)·k is nItems² when k is
 * untruncated, and growing it would copy it.
 */
function maxKept(input: ItemKnnInput, rows: Iterable<number>, k: number): number {
  const { itemUsers, userItems } = input;
  let total = 0;
  for (const i of rows) {
    let others = 0;
    for (let a = itemUsers.indptr[i]; a < itemUsers.indptr[i + 1]; a++) {
      const u = itemUsers.indices[a];
      others += userItems.indptr[u + 1] - userItems.indptr[u] - 1;
    }
    total += Math.min(k, others, itemUsers.nRows - 1);
  }
  return total;
}

export function fitItemKnn(x: Interactions, options: ItemKnnOptions): NeighbourLists {
  // A shard of every item already is the model: no joinShards copy.
  const { offsets, neighbours, scores } = fitItemKnnRange(prepareItemKnn(x, options), 0, x.itemIds.length, options);
  return { itemIds: x.itemIds, offsets, neighbours, scores };
}
