// Top-K ranking metrics with Microsoft Recommenders' definitions
// (recommenders/evaluation/python_evaluation.py): binary relevance, per-user
// values averaged over the evaluated users, a user without hits counting 0.

export interface UserRanking {
  /** Best first, at least the top k; the user's train items already left out. */
  recommended: readonly string[];
  /** The user's distinct test items. Never empty. */
  relevant: ReadonlySet<string>;
}

export interface RankingMetrics {
  users: number;
  precision: number;
  recall: number;
  ndcg: number;
  /** MSR `map`: average precision normalised by the number of relevant items. */
  map: number;
  /** MSR `map_at_k`: normalised by min(relevant, k) instead. */
  mapAtK: number;
  hitRate: number;
  /** Standard error of the mean nDCG over users: two models within about twice it are within noise. */
  ndcgSe: number;
}

/** Hits in the top k, divided by k (not by the list length: a short list is penalised, as MSR and Spark do). */
export function precisionAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  return hitsAtK(recommended, relevant, k) / k;
}

export function recallAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  return hitsAtK(recommended, relevant, k) / relevant.size;
}

/** 1 if any of the top k is relevant. */
export function hitAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  return hitsAtK(recommended, relevant, k) > 0 ? 1 : 0;
}

/**
 * DCG / ideal DCG with gain 1 per hit and discount 1 / ln(1 + rank); the ideal
 * ranking puts min(|relevant|, k) hits first. (The log base cancels out.)
 */
export function ndcgAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  let dcg = 0;
  const n = Math.min(k, recommended.length);
  for (let r = 0; r < n; r++) if (relevant.has(recommended[r])) dcg += 1 / Math.log(r + 2);
  let idcg = 0;
  for (let r = 0; r < Math.min(k, relevant.size); r++) idcg += 1 / Math.log(r + 2);
  return dcg / idcg;
}

/** Σ over hits in the top k of (hits so far / rank): the numerator of both MAP variants. */
function precisionSum(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  let hits = 0;
  let sum = 0;
  const n = Math.min(k, recommended.length);
  for (let r = 0; r < n; r++) {
    if (relevant.has(recommended[r])) sum += ++hits / (r + 1);
  }
  return sum;
}

/** MSR `map` for one user: precision-at-hit summed over the top k, divided by |relevant|. */
export function averagePrecision(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  return precisionSum(recommended, relevant, k) / relevant.size;
}

/** MSR `map_at_k` for one user: the same sum divided by min(|relevant|, k). */
export function averagePrecisionAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  return precisionSum(recommended, relevant, k) / Math.min(relevant.size, k);
}

/** Every metric averaged over the given users (the users in both train and test). */
export function meanRankingMetrics(users: Iterable<UserRanking>, k: number): RankingMetrics {
  const sum: RankingMetrics = { users: 0, precision: 0, recall: 0, ndcg: 0, map: 0, mapAtK: 0, hitRate: 0, ndcgSe: 0 };
  let ndcgSquares = 0;
  for (const { recommended, relevant } of users) {
    if (relevant.size === 0) throw new Error('a user without relevant items cannot be evaluated');
    sum.users++;
    sum.precision += precisionAtK(recommended, relevant, k);
    sum.recall += recallAtK(recommended, relevant, k);
    const ndcg = ndcgAtK(recommended, relevant, k);
    sum.ndcg += ndcg;
    ndcgSquares += ndcg * ndcg;
    sum.map += averagePrecision(recommended, relevant, k);
    sum.mapAtK += averagePrecisionAtK(recommended, relevant, k);
    sum.hitRate += hitAtK(recommended, relevant, k);
  }
  const n = Math.max(sum.users, 1);
  return {
    users: sum.users,
    precision: sum.precision / n,
    recall: sum.recall / n,
    ndcg: sum.ndcg / n,
    map: sum.map / n,
    mapAtK: sum.mapAtK / n,
    hitRate: sum.hitRate / n,
    ndcgSe: sum.users > 1 ? Math.sqrt(Math.max(0, ndcgSquares - (sum.ndcg * sum.ndcg) / n) / (n - 1) / n) : 0,
  };
}

/** Distinct items among all users' top k, over the number of distinct items in train (MSR catalog_coverage). */
export function catalogCoverage(lists: Iterable<readonly string[]>, k: number, trainItems: number): number {
  const seen = new Set<string>();
  for (const list of lists) for (const item of list.slice(0, k)) seen.add(item);
  return trainItems === 0 ? 0 : seen.size / trainItems;
}

function hitsAtK(recommended: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  let hits = 0;
  const n = Math.min(k, recommended.length);
  for (let r = 0; r < n; r++) if (relevant.has(recommended[r])) hits++;
  return hits;
}
