// Fits the blend's weights on validation users: a logistic regression (candidate bought or
// not) gives a first direction; coordinate ascent on mean nDCG@k then refines it, started
// from the best of that direction and each single feature alone, so on validation the
// blend never ranks worse than the best single generator it contains.

import { meanNdcg, type Groups } from './grouped-ndcg.ts';
import { fitLogistic, linear } from './logistic.ts';

export interface BlendExamples {
  /** Row-major candidate features, `d` per row, groups of rows per user. */
  features: Float64Array;
  d: number;
  labels: Uint8Array;
  groups: Groups;
}

export interface BlendFitOptions {
  k?: number;
  /** Passes of coordinate ascent over all features. Default 4. */
  passes?: number;
}

export interface BlendFit {
  weights: number[];
  /** The logistic regression's weights (without its intercept), where the ascent started. */
  logisticWeights: number[];
  /** Validation nDCG@k: of the fit, of the logistic start, and of each feature alone. */
  ndcg: number;
  logisticNdcg: number;
  singleNdcg: number[];
}

// Multipliers of a coordinate's line search, on features scaled to unit standard deviation.
const STEPS = [-4, -1, -0.25, -0.05, 0.05, 0.25, 1, 4];

/** Stacks per-user candidate features and labels into one example set. */
export function blendExamples(users: readonly { features: Float64Array; labels: ArrayLike<number>; relevant: number }[], d: number): BlendExamples {
  const rows = users.reduce((n, u) => n + u.labels.length, 0);
  const features = new Float64Array(rows * d);
  const labels = new Uint8Array(rows);
  const start = new Uint32Array(users.length + 1);
  const relevant = new Uint32Array(users.length);
  users.forEach((u, g) => {
    features.set(u.features, start[g] * d);
    labels.set(
      Array.from(u.labels, (l) => (l ? 1 : 0)),
      start[g],
    );
    start[g + 1] = start[g] + u.labels.length;
    relevant[g] = u.relevant;
  });
  return { features, d, labels, groups: { start, relevant } };
}

/**
 * What the candidates hold before any weighting: how many each user gets, the share of the users'
 * relevant items among them, and the mean nDCG@k they would give ranked perfectly. Low reach asks
 * for other generators; a perfect nDCG far above the served one, for better ranking.
 */
export function candidateReach(examples: BlendExamples, k = 10): { perUser: number; recall: number; perfectNdcg: number } {
  const { labels, groups } = examples;
  const found = labels.reduce((n, l) => n + l, 0);
  const relevant = groups.relevant.reduce((n, r) => n + r, 0);
  return { perUser: labels.length / groups.relevant.length, recall: relevant > 0 ? found / relevant : 0, perfectNdcg: meanNdcg(labels, labels, groups, k) };
}

/** Mean nDCG@k of the candidates ranked by `weights` (in the features' own units, as fitBlend returns them). */
export function blendNdcg(examples: BlendExamples, weights: readonly number[], k = 10): number {
  const { features, labels, groups } = examples;
  const scores = Float64Array.from({ length: labels.length }, (_, r) => linear(features, r, weights));
  return meanNdcg(scores, labels, groups, k);
}

export function fitBlend(examples: BlendExamples, options: BlendFitOptions = {}): BlendFit {
  const { k = 10, passes = 4 } = options;
  const { features, d, labels, groups } = examples;
  const n = labels.length;
  // Unit-variance columns: one step grid fits every feature.
  const scale = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    let sq = 0;
    for (let r = 0; r < n; r++) {
      s += features[r * d + j];
      sq += features[r * d + j] ** 2;
    }
    const sd = Math.sqrt(Math.max(sq / n - (s / n) ** 2, 0));
    scale[j] = sd > 1e-12 ? sd : 1;
  }
  const column = (j: number) => Float64Array.from({ length: n }, (_, r) => features[r * d + j] / scale[j]);
  const columns = Array.from({ length: d }, (_, j) => column(j));
  const scoresOf = (w: ArrayLike<number>) => {
    const s = new Float64Array(n);
    for (let j = 0; j < d; j++) if (w[j] !== 0) for (let r = 0; r < n; r++) s[r] += w[j] * columns[j][r];
    return s;
  };
  const objective = (w: ArrayLike<number>) => meanNdcg(scoresOf(w), labels, groups, k);

  const withIntercept = new Float64Array(n * (d + 1));
  for (let r = 0; r < n; r++) {
    withIntercept[r * (d + 1)] = 1;
    for (let j = 0; j < d; j++) withIntercept[r * (d + 1) + 1 + j] = columns[j][r];
  }
  const logistic = Float64Array.from(fitLogistic(withIntercept, labels, d + 1).subarray(1));
  const logisticNdcg = objective(logistic);
  const singleNdcg = Array.from({ length: d }, (_, j) => objective(unit(d, j)));

  let w = normalised(logistic);
  let value = logisticNdcg;
  singleNdcg.forEach((v, j) => {
    if (v > value) {
      value = v;
      w = unit(d, j);
    }
  });
  const scores = scoresOf(w);
  for (let pass = 0; pass < passes; pass++) {
    let improved = false;
    for (let j = 0; j < d; j++) {
      let bestStep = 0;
      for (const step of STEPS) {
        const trial = new Float64Array(n);
        for (let r = 0; r < n; r++) trial[r] = scores[r] + step * columns[j][r];
        const v = meanNdcg(trial, labels, groups, k);
        if (v > value + 1e-12) {
          value = v;
          bestStep = step;
        }
      }
      if (bestStep !== 0) {
        w[j] += bestStep;
        for (let r = 0; r < n; r++) scores[r] += bestStep * columns[j][r];
        improved = true;
      }
    }
    // Rescaling leaves rankings unchanged and keeps the steps meaningful.
    const norm = normalised(w);
    const factor = norm.some((x, j) => x !== w[j]) ? l1(w) : 1;
    w = norm;
    if (factor !== 1) for (let r = 0; r < n; r++) scores[r] /= factor;
    if (!improved) break;
  }
  const original = (v: Float64Array) => Array.from(v, (x, j) => x / scale[j]);
  return { weights: original(w), logisticWeights: original(logistic), ndcg: value, logisticNdcg, singleNdcg };
}

function unit(d: number, j: number): Float64Array {
  const w = new Float64Array(d);
  w[j] = 1;
  return w;
}

function l1(w: Float64Array): number {
  return w.reduce((a, x) => a + Math.abs(x), 0);
}

function normalised(w: Float64Array): Float64Array {
  const s = l1(w);
  return s > 0 ? w.map((x) => x / s) : w;
}
