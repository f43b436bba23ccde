// Item–item similarity from pair statistics. For items i, j over n users:
// cij = users with both, ci / cj = users with each (or, on a weighted matrix,
// Σ_u w_ui·w_uj and Σ_u w_ui², see ItemKnnOptions.weighted).

import type { Similarity } from '../config.ts';

export type SimilarityFn = (cij: number, ci: number, cj: number, n: number) => number;

export function similarityFn(measure: Similarity): SimilarityFn {
  switch (measure) {
    case 'cooccurrence':
      return (cij) => cij;
    case 'cosine':
      return (cij, ci, cj) => cij / Math.sqrt(ci * cj);
    case 'jaccard':
      return (cij, ci, cj) => cij / (ci + cj - cij);
    case 'lift':
      // P(i,j) / (P(i)·P(j)): 1 = independent. SAR leaves out the factor n, which ranks the same.
      return (cij, ci, cj, n) => (n * cij) / (ci * cj);
    case 'llr':
      // G² is two-sided: pairs seen together less often than chance also score high,
      // so those are scored 0 (dropped), keeping only positive association.
      return (cij, ci, cj, n) => (cij * n <= ci * cj ? 0 : logLikelihoodRatio(cij, ci - cij, cj - cij, n - ci - cj + cij));
  }
}

/**
 * Dunning's log-likelihood ratio G² of a 2×2 contingency table, computed as Mahout's
 * LogLikelihood.logLikelihoodRatio (used by the Universal Recommender):
 * k11 = both, k12 = i without j, k21 = j without i, k22 = neither.
 */
export function logLikelihoodRatio(k11: number, k12: number, k21: number, k22: number): number {
  const rowEntropy = entropy2(k11 + k12, k21 + k22);
  const columnEntropy = entropy2(k11 + k21, k12 + k22);
  const matrixEntropy = xLogX(k11 + k12 + k21 + k22) - xLogX(k11) - xLogX(k12) - xLogX(k21) - xLogX(k22);
  // Rounding can make the difference slightly negative for independent tables.
  return Math.max(0, 2 * (rowEntropy + columnEntropy - matrixEntropy));
}

function entropy2(a: number, b: number): number {
  return xLogX(a + b) - xLogX(a) - xLogX(b);
}

function xLogX(x: number): number {
  return x === 0 ? 0 : x * Math.log(x);
}
