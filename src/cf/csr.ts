// Sparse matrices in compressed sparse row form over typed arrays. Never dense:
// the user×item matrix of 5M events is ~40 MB here.

import { decayFactor } from './decay.ts';
import { SECONDS_PER_DAY } from '../lib/time.ts';
import type { Interactions } from './interactions.ts';

export interface Csr {
  nRows: number;
  nCols: number;
  /** Row r holds entries indptr[r] .. indptr[r+1]-1. */
  indptr: Uint32Array;
  /** Column of each entry, ascending within a row. */
  indices: Uint32Array;
  values: Float32Array;
}

export interface MatrixOptions {
  /** Half-life of the time decay in days; 0 (default) means no decay. */
  halfLifeDays?: number;
  /** Reference time of the decay, unix seconds. Required when halfLifeDays > 0. */
  now?: number;
  /**
   * How repeated events of one (user, item) combine: 'sum' (default) is SAR's
   * affinity; 'max' counts a user once, at their strongest event (popularity).
   */
  combine?: 'sum' | 'max';
}

/** The user×item matrix: value = Σ (or max) over the pair's events of weight · 2^(-(now - t)/halfLife). */
export function userItemMatrix(x: Interactions, options: MatrixOptions = {}): Csr {
  const { halfLifeDays = 0, now, combine = 'sum' } = options;
  if (halfLifeDays > 0 && now === undefined) throw new Error('time decay needs `now`');
  const halfLife = halfLifeDays * SECONDS_PER_DAY;
  const nRows = x.userIds.length;
  // Two stable counting sorts (by item, then by user) order events by (user, item) in O(n).
  const order = countingSort(x.users, nRows, countingSort(x.items, x.itemIds.length, null));
  const indptr = new Uint32Array(nRows + 1);
  const indices = new Uint32Array(order.length);
  const values = new Float64Array(order.length);
  let nnz = 0;
  let prevUser = -1;
  let prevItem = -1;
  for (let k = 0; k < order.length; k++) {
    const r = order[k];
    const user = x.users[r];
    const item = x.items[r];
    const v = x.weights[r] * decayFactor(x.times[r], now ?? 0, halfLife);
    if (user === prevUser && item === prevItem) {
      values[nnz - 1] = combine === 'sum' ? values[nnz - 1] + v : Math.max(values[nnz - 1], v);
    } else {
      indices[nnz] = item;
      values[nnz] = v;
      nnz++;
      prevUser = user;
      prevItem = item;
    }
    indptr[user + 1] = nnz;
  }
  // indptr[u + 1] was only set for users with events; the others' rows are empty.
  for (let u = 1; u <= nRows; u++) if (indptr[u] < indptr[u - 1]) indptr[u] = indptr[u - 1];
  return { nRows, nCols: x.itemIds.length, indptr, indices: indices.slice(0, nnz), values: Float32Array.from(values.subarray(0, nnz)) };
}

/** Aᵀ, with row indices ascending within each of its rows. */
export function transpose(m: Csr): Csr {
  const nnz = m.indices.length;
  const indptr = new Uint32Array(m.nCols + 1);
  for (let k = 0; k < nnz; k++) indptr[m.indices[k] + 1]++;
  for (let c = 0; c < m.nCols; c++) indptr[c + 1] += indptr[c];
  const next = indptr.slice(0, m.nCols);
  const indices = new Uint32Array(nnz);
  const values = new Float32Array(nnz);
  for (let r = 0; r < m.nRows; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      const dest = next[m.indices[k]]++;
      indices[dest] = r;
      values[dest] = m.values[k];
    }
  }
  return { nRows: m.nCols, nCols: m.nRows, indptr, indices, values };
}

/** Stable permutation of `input` (or of 0..n-1) ordering positions by keys[position]. */
function countingSort(keys: Uint32Array, nKeys: number, input: Uint32Array | null): Uint32Array {
  const n = keys.length;
  const next = new Uint32Array(nKeys + 1);
  for (let r = 0; r < n; r++) next[keys[r] + 1]++;
  for (let k = 0; k < nKeys; k++) next[k + 1] += next[k];
  const out = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const r = input === null ? k : input[k];
    out[next[keys[r]]++] = r;
  }
  return out;
}
