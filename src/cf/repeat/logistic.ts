// L2-regularised logistic regression by iteratively reweighted least squares (Newton's
// method): the mixing weights of buy-again's features and of the blend's generators. A
// handful of features, so each step is one small dense solve (ml-matrix).

import { Matrix, solve } from 'ml-matrix';

export interface LogisticOptions {
  /** Ridge on the standardised non-intercept weights: only keeps the solve well posed. Default 1. */
  l2?: number;
  maxIterations?: number;
  /** Weights to start from (on the original scale, as returned): a close start saves Newton steps. */
  start?: ArrayLike<number>;
}

/**
 * Weights w (column 0 of `x` is the intercept, all ones) maximising Σ log-likelihood of
 * labels `y` ∈ {0, 1} under P(y = 1) = σ(x·w) minus l2/2 · |w|² over the other columns,
 * standardised (so one ridge fits every scale); returned on the original scale.
 * `x` is row-major, n rows of `d` numbers.
 */
export function fitLogistic(x: Float64Array, y: ArrayLike<number>, d: number, options: LogisticOptions = {}): Float64Array {
  const { l2 = 1, maxIterations = 50, start } = options;
  const n = y.length;
  if (x.length !== n * d) throw new RangeError(`x holds ${x.length} numbers, expected ${n} rows of ${d}`);
  const mean = new Float64Array(d);
  const scale = new Float64Array(d).fill(1);
  const constant = new Array<boolean>(d).fill(false);
  for (let j = 1; j < d; j++) {
    let s = 0;
    let sq = 0;
    for (let r = 0; r < n; r++) {
      s += x[r * d + j];
      sq += x[r * d + j] ** 2;
    }
    mean[j] = s / n;
    const sd = Math.sqrt(Math.max(sq / n - mean[j] ** 2, 0));
    // A column that barely varies (rounding, or a feature constant on this data) is left out:
    // standardising it would blow its last digits up into a huge weight.
    constant[j] = !(sd > 1e-6 * (1 + Math.abs(mean[j])));
    scale[j] = constant[j] ? 1 : sd;
  }
  // The standardised matrix, once: the Newton steps below read it many times.
  const z = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    z[r * d] = 1;
    for (let j = 1; j < d; j++) z[r * d + j] = constant[j] ? 0 : (x[r * d + j] - mean[j]) / scale[j];
  }

  // The start on the standardised scale: w_j · s_j, the intercept taking the means back.
  let w = new Float64Array(d);
  if (start !== undefined) {
    w[0] = start[0];
    for (let j = 1; j < d; j++) {
      w[j] = constant[j] ? 0 : start[j] * scale[j];
      w[0] += start[j] * mean[j];
    }
  }
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const hessian = new Float64Array(d * d);
    const gradient = new Float64Array(d);
    for (let j = 1; j < d; j++) {
      hessian[j * d + j] += l2;
      gradient[j] -= l2 * w[j];
    }
    for (let r = 0, o = 0; r < n; r++, o += d) {
      let eta = 0;
      for (let j = 0; j < d; j++) eta += z[o + j] * w[j];
      const p = 1 / (1 + Math.exp(-eta));
      const v = Math.max(p * (1 - p), 1e-12);
      const residual = y[r] - p;
      for (let j = 0; j < d; j++) {
        const zj = z[o + j];
        gradient[j] += residual * zj;
        const vz = v * zj;
        for (let k = 0; k <= j; k++) hessian[j * d + k] += vz * z[o + k];
      }
    }
    for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) hessian[k * d + j] = hessian[j * d + k];
    const step = solve(new Matrix(rows(hessian, d)), Matrix.columnVector(Array.from(gradient))).to1DArray();
    w = w.map((v, j) => v + step[j]);
    // Newton converges quadratically: a step this small changes no ranking.
    if (Math.max(...step.map(Math.abs)) < 1e-7 * (1 + Math.max(...w.map(Math.abs)))) break;
  }
  // Back to the original scale: w_j / s_j, and the intercept absorbs the means.
  const out = new Float64Array(d);
  out[0] = w[0];
  for (let j = 1; j < d; j++) {
    out[j] = w[j] / scale[j];
    out[0] -= out[j] * mean[j];
  }
  return out;
}

/** x·w for row `r` of a row-major matrix. */
export function linear(x: Float64Array, r: number, w: ArrayLike<number>): number {
  const d = w.length;
  let s = 0;
  for (let j = 0; j < d; j++) s += x[r * d + j] * w[j];
  return s;
}

export function sigmoid(t: number): number {
  return 1 / (1 + Math.exp(-t));
}

function rows(flat: Float64Array, d: number): number[][] {
  return Array.from({ length: d }, (_, j) => Array.from(flat.subarray(j * d, j * d + d)));
}
