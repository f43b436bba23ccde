// TIFU-KNN's five hyper-parameters chosen on a validation split carved out of train (never
// the test): coordinate ascent over grids, each vector setting (group size, decays) with
// one neighbour search at the largest k, then every k and α read off it; on at most `maxUsers`
// validation users, so its cost stays bounded on a large shop.

import { selectRows, type Interactions } from '../interactions.ts';
import { TopK } from '../topk.ts';
import { ndcgAtK } from '../../eval/metrics.ts';
import { evalSet, evenSample, type EvalOptions } from '../../eval/protocol.ts';
import type { Split } from '../../eval/split.ts';
import { DEFAULT_OCCASION_SECONDS } from './occasions.ts';
import { userNeighbours, userVectors, type TifuParams, type TifuVectorParams, type UserVectors } from './tifu.ts';

export interface TifuGrid {
  groupSize: readonly number[];
  withinDecay: readonly number[];
  acrossDecay: readonly number[];
  neighbours: readonly number[];
  alpha: readonly number[];
}

// Ranges like those the paper searches (Hu et al. 2020), a little coarser.
export const TIFU_GRID: TifuGrid = {
  groupSize: [1, 3, 7, 15],
  withinDecay: [0.5, 0.7, 0.9, 1],
  acrossDecay: [0.3, 0.5, 0.7, 0.9, 1],
  neighbours: [10, 50, 100, 300, 900],
  alpha: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
};

/** Where the ascent starts: a setting typical of the paper's tuned ones. */
export const TIFU_START: TifuParams = { groupSize: 7, withinDecay: 0.9, acrossDecay: 0.7, neighbours: 300, alpha: 0.7 };

export interface TifuFitOptions extends EvalOptions {
  split: (x: Interactions) => Split;
  k?: number;
  occasionSeconds?: number;
  grid?: TifuGrid;
  /** Rounds of coordinate ascent over the vector parameters. Default 2. */
  rounds?: number;
  /** Validation users the fit uses at most (an even sample by id): its cost grows with them. Default 1500. */
  maxUsers?: number;
}

export interface TifuFit {
  params: TifuParams;
  ndcg: number;
  /** Vector settings tried, each with its best k and α. */
  tried: { params: TifuParams; ndcg: number }[];
}

export function fitTifu(train: Interactions, options: TifuFitOptions): TifuFit {
  const { k = 10, occasionSeconds = DEFAULT_OCCASION_SECONDS, grid = TIFU_GRID, rounds = 2, maxUsers = 1500 } = options;
  const rows = options.split(train);
  const inner = selectRows(train, rows.train);
  const validation = evalSet(inner, selectRows(train, rows.test), { repeats: options.repeats });
  const userIndex = new Map(inner.userIds.map((id, u) => [id, u]));
  const users = evenSample(validation.users, maxUsers).map((u) => ({ index: userIndex.get(u.id)!, exclude: u.exclude, relevant: u.relevant }));
  const cache = new Map<string, { params: TifuParams; ndcg: number }>();
  const tried: TifuFit['tried'] = [];
  const evaluate = (vp: TifuVectorParams) => {
    const key = `${vp.groupSize}/${vp.withinDecay}/${vp.acrossDecay}`;
    let result = cache.get(key);
    if (!result) {
      const vectors = userVectors(inner, vp, occasionSeconds);
      result = bestNeighbourSetting(vectors, users, grid, k, vp);
      cache.set(key, result);
      tried.push(result);
    }
    return result;
  };
  let best = evaluate(TIFU_START);
  for (let round = 0; round < rounds; round++) {
    for (const name of ['groupSize', 'withinDecay', 'acrossDecay'] as const) {
      for (const value of grid[name]) {
        const result = evaluate({ ...best.params, [name]: value });
        if (result.ndcg > best.ndcg) best = result;
      }
    }
  }
  return { ...best, tried };
}

interface ValidationUser {
  index: number;
  exclude: ReadonlySet<string>;
  relevant: ReadonlySet<string>;
}

/** For one set of vectors, the (k, α) of the grid with the best mean nDCG@k. */
function bestNeighbourSetting(v: UserVectors, users: ValidationUser[], grid: TifuGrid, k: number, vp: TifuVectorParams): { params: TifuParams; ndcg: number } {
  const ks = [...grid.neighbours].sort((a, b) => a - b);
  const nearest = userNeighbours(v);
  const sums = new Float64Array(ks.length * grid.alpha.length);
  const acc = new Float64Array(v.itemIds.length);
  const ownValue = new Float64Array(v.itemIds.length);
  const touched: number[] = [];
  for (const user of users) {
    const u = user.index;
    const neighbours = nearest(u, ks[ks.length - 1]);
    for (let e = v.indptr[u]; e < v.indptr[u + 1]; e++) ownValue[v.indices[e]] = v.values[e];
    let next = 0;
    for (let s = 0; s < ks.length; s++) {
      const kn = Math.min(ks[s], neighbours.length);
      for (; next < kn; next++) {
        const b = neighbours[next];
        for (let e = v.indptr[b]; e < v.indptr[b + 1]; e++) {
          if (acc[v.indices[e]] === 0) touched.push(v.indices[e]);
          acc[v.indices[e]] += v.values[e];
        }
      }
      // Items of neither the user nor the top k of the neighbours can never reach the top k.
      const top = new TopK(k);
      for (const item of touched) if (ownValue[item] === 0 && !user.exclude.has(v.itemIds[item])) top.push(item, acc[item]);
      const candidates = new Uint32Array(top.size + v.indptr[u + 1] - v.indptr[u]);
      top.drainInto(candidates, new Float64Array(candidates.length), 0);
      candidates.set(v.indices.subarray(v.indptr[u], v.indptr[u + 1]), candidates.length - (v.indptr[u + 1] - v.indptr[u]));
      grid.alpha.forEach((alpha, a) => {
        const ranked = Array.from(candidates)
          .filter((item) => !user.exclude.has(v.itemIds[item]))
          .map((item) => ({ item, score: alpha * ownValue[item] + ((1 - alpha) * acc[item]) / Math.max(kn, 1) }))
          .sort((x, y) => y.score - x.score || x.item - y.item)
          .slice(0, k)
          .map((c) => v.itemIds[c.item]);
        sums[s * grid.alpha.length + a] += ndcgAtK(ranked, user.relevant, k);
      });
    }
    for (const item of touched) acc[item] = 0;
    touched.length = 0;
    for (let e = v.indptr[u]; e < v.indptr[u + 1]; e++) ownValue[v.indices[e]] = 0;
  }
  let best = 0;
  for (let c = 1; c < sums.length; c++) if (sums[c] > sums[best]) best = c;
  return {
    params: { ...vp, neighbours: ks[Math.floor(best / grid.alpha.length)], alpha: grid.alpha[best % grid.alpha.length] },
    ndcg: users.length ? sums[best] / users.length : 0,
  };
}
