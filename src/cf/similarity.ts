// Item–item similarity from pair statistics. For items i, j over n users:
// cij = users with both, ci / cj = users with each (or, on a weighted matrix,
// Σ_u w_ui·w_uj and Σ_u w_ui², see ItemKnnOptions.weighted).

import type { Similarity } from '../config.ts';

export type SimilarityFn = (cij: number, ci: number, cj: number) => number;

/** The similarity of a pair given its statistics, over `nUsers` users (the n of lift and LLR). */
export function similarityFn(measure: Similarity, nUsers: number): SimilarityFn {
  const n = nUsers;
  switch (measure) {
    case 'cooccurrence':
      return (cij) => cij;
    case 'cosine':
      return (cij, ci, cj) => cij / Math.sqrt(ci * cj);
    case 'jaccard':
      return (cij, ci, cj) => cij / (ci + cj - cij);
    case 'lift':
      // P(i,j) / (P(i)·P(j)), 1 = independent (SAR leaves out the factor n, which ranks the same).
      // Raw lift is largest for pairs of rare items seen together once or twice, so its
      // top-K lists fill with noise (on UCI Online Retail it scores below popularity). Here
      // cij is replaced by the lower end of its ±3σ Poisson interval, cij − 3√cij: pairs seen
      // 9 times or fewer score 0, well-supported pairs keep about their lift.
      return (cij, ci, cj) => (n * Math.max(0, cij - 3 * Math.sqrt(cij))) / (ci * cj);
    case 'llr': {
      // Counts are whole numbers ≤ n: x·ln(x) comes from a table, not 9 logarithms per pair.
      const table = Float64Array.from({ length: n + 1 }, (_, x) => xLogX(x));
      const xlx = (x: number) => table[x];
      // G² is two-sided: pairs seen together less often than chance also score high,
      // so those are scored 0 (dropped), keeping only positive association.
      return (cij, ci, cj) => (cij * n <= ci * cj ? 0 : logLikelihoodRatio(cij, ci - cij, cj - cij, n - ci - cj + cij, xlx));
    }
  }
}

/**
 * Dunning's log-likelihood ratio G² of a 2×2 contingency table, as Mahout's
 * LogLikelihood.logLikelihoodRatio (used by the Universal Recommender):
 * k11 = both, k12 = i without j, k21 = j without i, k22 = neither.
 * G² = 2·(H(rows) + H(columns) − H(table)) with the unnormalised entropies H = xlnx(N) − Σ xlnx(k).
 */
export function logLikelihoodRatio(k11: number, k12: number, k21: number, k22: number, xlx: (x: number) => number = xLogX): number {
  const g2 = 2 * (xlx(k11 + k12 + k21 + k22) + xlx(k11) + xlx(k12) + xlx(k21) + xlx(k22) - xlx(k11 + k12) - xlx(k21 + k22) - xlx(k11 + k21) - xlx(k12 + k22));
  // Rounding can make it slightly negative for independent tables.
  return Math.max(0, g2);
}

function xLogX(x: number): number {
  return x === 0 ? 0 : x * Math.log(x);
}
