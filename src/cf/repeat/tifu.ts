// TIFU-KNN (Hu et al., "Modeling Personalized Item Frequency Information for Next-basket
// Recommendation", SIGIR 2020): a user is the time-decayed mean of their basket vectors,
// decayed within consecutive groups of baskets and across the groups; the prediction is
// α · own vector + (1 − α) · the mean vector of the k nearest users (Euclidean, as the
// paper). Baskets are the user's occasions (occasions.ts).

import type { Interactions } from '../interactions.ts';
import { TopK } from '../topk.ts';
import { DEFAULT_OCCASION_SECONDS, occasionsOf, type Occasions } from './occasions.ts';

export interface TifuVectorParams {
  /** Baskets per group (m). */
  groupSize: number;
  /** r_b: weight of a basket per later basket in its group. */
  withinDecay: number;
  /** r_g: weight of a group per later group. */
  acrossDecay: number;
}

export interface TifuParams extends TifuVectorParams {
  /** Nearest users averaged (k). */
  neighbours: number;
  /** Weight of the user's own vector against the neighbours'. */
  alpha: number;
}

/** Users' vectors as sparse rows (item indices ascending) over the training ids. */
export interface UserVectors {
  userIds: string[];
  itemIds: string[];
  indptr: Uint32Array;
  indices: Uint32Array;
  values: Float64Array;
}

/** The weight of each occasion (basket) in the user vector, oldest first. */
export function basketWeights(nBaskets: number, p: TifuVectorParams): Float64Array {
  const groups = Math.ceil(nBaskets / p.groupSize);
  const base = Math.floor(nBaskets / groups);
  const larger = nBaskets - base * groups; // the last `larger` groups hold one more basket
  const out = new Float64Array(nBaskets);
  let j = 0;
  for (let g = 0; g < groups; g++) {
    const size = g >= groups - larger ? base + 1 : base;
    const across = p.acrossDecay ** (groups - 1 - g) / groups;
    for (let pos = 0; pos < size; pos++) out[j++] = (across * p.withinDecay ** (size - 1 - pos)) / size;
  }
  return out;
}

/** One user's vector: Σ over the occasions holding each item of the occasion's weight. */
export function tifuVector<K>(o: Occasions<K>, p: TifuVectorParams): Map<K, number> {
  const weights = basketWeights(o.buckets.length, p);
  const out = new Map<K, number>();
  for (const [item, { occasions }] of o.items) {
    let v = 0;
    for (const k of occasions) v += weights[k];
    out.set(item, v);
  }
  return out;
}

/** Every user's vector from purchases. */
export function userVectors(x: Interactions, p: TifuVectorParams, occasionSeconds = DEFAULT_OCCASION_SECONDS): UserVectors {
  const order = Uint32Array.from(x.users.keys()).sort((a, b) => x.users[a] - x.users[b] || a - b);
  const indptr = new Uint32Array(x.userIds.length + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let start = 0; start < order.length; ) {
    const user = x.users[order[start]];
    let end = start;
    while (end < order.length && x.users[order[end]] === user) end++;
    const o = occasionsOf(
      Array.from(order.subarray(start, end), (r) => ({ item: x.items[r], ts: x.times[r] })),
      occasionSeconds,
    );
    for (const [item, v] of [...tifuVector(o, p)].sort((a, b) => a[0] - b[0])) {
      indices.push(item);
      values.push(v);
    }
    indptr[user + 1] = indices.length;
    start = end;
  }
  for (let u = 1; u < indptr.length; u++) if (indptr[u] < indptr[u - 1]) indptr[u] = indptr[u - 1];
  return { userIds: x.userIds, itemIds: x.itemIds, indptr, indices: Uint32Array.from(indices), values: Float64Array.from(values) };
}

/**
 * A search for a user's `k` nearest other users by Euclidean distance (ties: smaller index),
 * nearest first; empty for a user without a vector. |a − b|² = |a|² + |b|² − 2a·b: dot
 * products through an item → users index for the users sharing an item; among the others the
 * distance is |a|² + |b|², so the smallest norms are the only ones that can enter. One user at
 * a time: an evaluation or a fit needs the neighbours of some users, not a table of all.
 */
export function userNeighbours(v: UserVectors): (u: number, k: number) => Uint32Array {
  const nUsers = v.indptr.length - 1;
  const norm = new Float64Array(nUsers);
  for (let u = 0; u < nUsers; u++) for (let e = v.indptr[u]; e < v.indptr[u + 1]; e++) norm[u] += v.values[e] ** 2;
  const byNorm = [...norm.keys()].filter((u) => v.indptr[u + 1] > v.indptr[u]).sort((a, b) => norm[a] - norm[b] || a - b);
  const itemUsers = transposeRows(v);
  const dot = new Float64Array(nUsers);
  const touched = new Int32Array(nUsers);
  const stamp = new Int32Array(nUsers).fill(-1);
  let call = 0;
  return (u, k) => {
    if (v.indptr[u + 1] === v.indptr[u]) return new Uint32Array(0);
    call++;
    let n = 0;
    for (let e = v.indptr[u]; e < v.indptr[u + 1]; e++) {
      const item = v.indices[e];
      const a = v.values[e];
      for (let f = itemUsers.indptr[item]; f < itemUsers.indptr[item + 1]; f++) {
        const b = itemUsers.users[f];
        if (stamp[b] !== call) {
          stamp[b] = call;
          dot[b] = 0;
          touched[n++] = b;
        }
        dot[b] += a * itemUsers.values[f];
      }
    }
    const top = new TopK(k);
    for (let t = 0; t < n; t++) {
      const b = touched[t];
      if (b !== u) top.push(b, -(norm[u] + norm[b] - 2 * dot[b]));
    }
    let taken = 0;
    for (const b of byNorm) {
      if (taken === k) break;
      if (b === u || stamp[b] === call) continue;
      top.push(b, -(norm[u] + norm[b]));
      taken++;
    }
    const out = new Uint32Array(top.size);
    top.drainInto(out, new Float64Array(out.length), 0);
    return out;
  };
}

/** The mean of the given users' vectors, as item index → value. */
export function meanVector(v: UserVectors, users: ArrayLike<number>): Map<number, number> {
  const out = new Map<number, number>();
  for (let n = 0; n < users.length; n++) {
    const u = users[n];
    for (let e = v.indptr[u]; e < v.indptr[u + 1]; e++) out.set(v.indices[e], (out.get(v.indices[e]) ?? 0) + v.values[e] / users.length);
  }
  return out;
}

/** α · own + (1 − α) · neighbours, best first (ties: smaller id), as item ids. */
export function tifuScores(own: ReadonlyMap<string, number>, neighbourMean: ReadonlyMap<number, number>, itemIds: readonly string[], alpha: number): { item: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const [item, value] of neighbourMean) scores.set(itemIds[item], (1 - alpha) * value);
  for (const [item, value] of own) scores.set(item, (scores.get(item) ?? 0) + alpha * value);
  return [...scores].map(([item, score]) => ({ item, score })).sort((a, b) => b.score - a.score || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
}

function transposeRows(v: UserVectors): { indptr: Uint32Array; users: Uint32Array; values: Float64Array } {
  const nItems = v.itemIds.length;
  const indptr = new Uint32Array(nItems + 1);
  for (const item of v.indices) indptr[item + 1]++;
  for (let i = 0; i < nItems; i++) indptr[i + 1] += indptr[i];
  const next = indptr.slice(0, nItems);
  const users = new Uint32Array(v.indices.length);
  const values = new Float64Array(v.indices.length);
  for (let u = 0; u + 1 < v.indptr.length; u++) {
    for (let e = v.indptr[u]; e < v.indptr[u + 1]; e++) {
      const at = next[v.indices[e]]++;
      users[at] = u;
      values[at] = v.values[e];
    }
  }
  return { indptr, users, values };
}
