// nDCG@k of scored candidate rows grouped by user, for fitting on a validation split.
// The same definition as src/eval/metrics.ts's ndcgAtK (gain 1, discount 1/ln(1 + rank),
// ideal over all of the user's relevant items), on typed arrays with no strings: a fit
// evaluates it thousands of times.

export interface Groups {
  /** Group g's candidates are rows start[g] .. start[g + 1] − 1. */
  start: Uint32Array;
  /** Group g's relevant items, counting those that are no candidate: they still count in the ideal DCG. */
  relevant: Uint32Array;
}

/** Per group nDCG@k of the rows ranked by score (ties: earlier row first). */
export function groupNdcg(scores: ArrayLike<number>, labels: ArrayLike<number>, groups: Groups, k: number): Float64Array {
  const nGroups = groups.relevant.length;
  const out = new Float64Array(nGroups);
  const discount = Float64Array.from({ length: k }, (_, r) => 1 / Math.log(r + 2));
  const top = new Int32Array(k);
  for (let g = 0; g < nGroups; g++) {
    let m = 0;
    for (let r = groups.start[g]; r < groups.start[g + 1]; r++) {
      const s = scores[r];
      if (m === k && !(s > scores[top[k - 1]])) continue;
      let p = m < k ? m++ : k - 1;
      for (; p > 0 && s > scores[top[p - 1]]; p--) top[p] = top[p - 1];
      top[p] = r;
    }
    let dcg = 0;
    for (let p = 0; p < m; p++) if (labels[top[p]]) dcg += discount[p];
    let ideal = 0;
    for (let p = 0; p < Math.min(k, groups.relevant[g]); p++) ideal += discount[p];
    out[g] = ideal > 0 ? dcg / ideal : 0;
  }
  return out;
}

export function meanNdcg(scores: ArrayLike<number>, labels: ArrayLike<number>, groups: Groups, k: number): number {
  const per = groupNdcg(scores, labels, groups, k);
  return per.length ? per.reduce((a, b) => a + b, 0) / per.length : 0;
}
