// The published next-basket baselines, computed by the evaluation itself (Li et al., "A Next
// Basket Recommendation Reality Check", 2023): P-TopFreq recommends the user's most frequent
// items (baskets holding them; ties: the more recent), GP-TopFreq fills the rest with the
// globally most frequent ones, TIFU-KNN (Hu et al., 2020) blends the user's time-decayed item
// frequencies with their nearest users', its five parameters fit on a validation split of
// train. Not served: yardsticks for buy-again and for-you.
import type { Interactions } from '../cf/interactions.ts';
import type { RankedItems } from '../cf/popularity.ts';
import { meanVector, tifuScores, userNeighbours, userVectors } from '../cf/repeat/tifu.ts';
import { fitTifu, type TifuFit } from '../cf/repeat/tifu-fit.ts';
import { purchaseRows } from '../model/repeat.ts';
import type { EvalUser, Recommender } from './protocol.ts';
import type { Split } from './split.ts';

export const BASELINES = ['p-topfreq', 'gp-topfreq', 'tifu-knn'] as const;
export type Baseline = (typeof BASELINES)[number];

export interface BaselineInput {
  /** The global ranking GP-TopFreq fills with (the model's popularity list). */
  popular: RankedItems;
  train: Interactions;
  /** Carves TIFU-KNN's validation out of train, the way the test split was made. */
  split: (x: Interactions) => Split;
  k: number;
  repeats: boolean;
}

/** The user's items by the number of baskets (distinct times) holding them, then by their latest basket. */
export function personalTopFrequency(user: EvalUser): string[] {
  const baskets = new Map<string, Set<number>>();
  const latest = new Map<string, number>();
  for (const e of user.history) {
    if (e.view) continue;
    (baskets.get(e.item) ?? baskets.set(e.item, new Set()).get(e.item)!).add(e.ts);
    latest.set(e.item, Math.max(latest.get(e.item) ?? -Infinity, e.ts));
  }
  return [...baskets.keys()].sort((a, b) => baskets.get(b)!.size - baskets.get(a)!.size || latest.get(b)! - latest.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
}

/** The baseline's recommender, fit on train where it has parameters; `fit` says what TIFU-KNN chose. */
export function baselineRecommender(name: Baseline, input: BaselineInput): { recommend: Recommender; fit?: TifuFit } {
  if (name === 'tifu-knn') return tifuKnn(input);
  return {
    recommend: (user, k) => {
      const out: string[] = [];
      const taken = new Set<string>();
      const add = (id: string) => {
        if (out.length < k && !user.exclude.has(id) && !taken.has(id)) {
          taken.add(id);
          out.push(id);
        }
      };
      for (const id of personalTopFrequency(user)) add(id);
      if (name === 'gp-topfreq') for (const id of input.popular.ids) add(id);
      return out;
    },
  };
}

/** TIFU-KNN over train's purchases: α · the user's vector + (1 − α) · the mean of their k nearest users'. */
function tifuKnn({ train, split, k, repeats }: BaselineInput): { recommend: Recommender; fit: TifuFit } {
  const purchases = purchaseRows(train);
  const fit = fitTifu(purchases, { split, k, repeats });
  const vectors = userVectors(purchases, fit.params);
  const nearest = userNeighbours(vectors);
  const index = new Map(vectors.userIds.map((id, u) => [id, u]));
  const recommend: Recommender = (user, n) => {
    const u = index.get(user.id);
    if (u === undefined) return [];
    const own = new Map<string, number>();
    for (let e = vectors.indptr[u]; e < vectors.indptr[u + 1]; e++) own.set(vectors.itemIds[vectors.indices[e]], vectors.values[e]);
    const neighbours = meanVector(vectors, nearest(u, fit.params.neighbours));
    const out: string[] = [];
    for (const { item } of tifuScores(own, neighbours, vectors.itemIds, fit.params.alpha)) {
      if (out.length === n) break;
      if (!user.exclude.has(item)) out.push(item);
    }
    return out;
  };
  return { recommend, fit };
}
