// EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019):
// the item-item weight matrix B minimising ‖X − XB‖² + λ‖B‖² with diag(B) = 0 has
// the closed form P = (XᵀX + λI)⁻¹, B_ij = −P_ij / P_jj (i ≠ j). It needs a dense
// N×N inverse, so it is fit on the N most popular items only.

import { userItemMatrix } from './csr.ts';
import type { Interactions } from './interactions.ts';
import type { NeighbourLists } from './neighbours.ts';
import { invertSpd } from './spd-inverse.ts';
import { TopK } from './topk.ts';

export interface EaseOptions {
  /** L2 regularisation λ added to the diagonal of the Gram matrix. */
  lambda: number;
  /** Items kept (most popular by distinct users); the dense inverse costs N³/2. */
  maxItems: number;
  /** Neighbours kept per item. */
  k: number;
  /** X holds the summed event weights (ratings) instead of 1 per (user, item). Default false. */
  weighted?: boolean;
  /** Time decay of a weighted X (days, 0 = none). */
  halfLifeDays?: number;
  /** Reference time of the decay, unix seconds. */
  now?: number;
}

/**
 * Fits EASE and returns, for each kept item i, the items j with the largest
 * positive B_ij. Since score(u, j) = Σ_i x_ui·B_ij, row i of B is exactly what
 * item i contributes as a seed, the same contract as item-kNN neighbour lists.
 * Items outside the top N get empty lists.
 */
export function fitEase(x: Interactions, options: EaseOptions): NeighbourLists {
  const { lambda, k, weighted = false } = options;
  const m = userItemMatrix(x, weighted ? { halfLifeDays: options.halfLifeDays, now: options.now } : {});
  const kept = mostPopular(m.indptr, m.indices, m.nCols, options.maxItems);
  const n = kept.length;
  const local = new Int32Array(m.nCols).fill(-1);
  kept.forEach((item, a) => {
    local[item] = a;
  });

  // G = XᵀX + λI over kept items: each user adds the outer product of their row.
  const g = new Float64Array(n * n);
  const rowIdx = new Int32Array(n);
  const rowVal = new Float64Array(n);
  for (let u = 0; u < m.nRows; u++) {
    let len = 0;
    for (let e = m.indptr[u]; e < m.indptr[u + 1]; e++) {
      const a = local[m.indices[e]];
      if (a < 0) continue;
      rowIdx[len] = a;
      rowVal[len++] = weighted ? m.values[e] : 1;
    }
    for (let p = 0; p < len; p++) {
      const base = rowIdx[p] * n;
      const vp = rowVal[p];
      for (let q = 0; q < len; q++) g[base + rowIdx[q]] += vp * rowVal[q];
    }
  }
  for (let a = 0; a < n; a++) g[a * n + a] += lambda;
  const p = invertSpd(g, n);

  const offsets = new Uint32Array(m.nCols + 1);
  const neighbours = new Uint32Array(n * Math.min(k, n));
  const scores = new Float32Array(n * Math.min(k, n));
  const top = new TopK(k);
  let filled = 0;
  for (let item = 0; item < m.nCols; item++) {
    const a = local[item];
    if (a >= 0) {
      for (let b = 0; b < n; b++) {
        const bij = b === a ? 0 : -p[a * n + b] / p[b * n + b];
        if (bij > 0) top.push(kept[b], bij);
      }
      filled += top.drainInto(neighbours, scores, filled);
    }
    offsets[item + 1] = filled;
  }
  return { itemIds: x.itemIds, offsets, neighbours: neighbours.slice(0, filled), scores: scores.slice(0, filled) };
}

/** The `limit` items with the most distinct users (ties → smaller index), ascending by index. */
function mostPopular(indptr: Uint32Array, indices: Uint32Array, nItems: number, limit: number): Uint32Array {
  const users = new Float64Array(nItems);
  for (let e = 0; e < indptr[indptr.length - 1]; e++) users[indices[e]]++;
  const top = new TopK(Math.min(limit, nItems));
  for (let i = 0; i < nItems; i++) if (users[i] > 0) top.push(i, users[i]);
  const kept = new Uint32Array(top.size);
  top.drainInto(kept, new Float64Array(kept.length), 0);
  return kept.sort();
}
