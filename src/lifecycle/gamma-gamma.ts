// Gamma–Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV:
// using iso-value curves for customer base analysis"; Fader & Hardie 2013, "The
// Gamma-Gamma model of monetary value"). A customer's transaction values are
// Gamma(p, ν); ν ~ Gamma(q, γ) across customers (γ is `v` here, as in lifetimes).
// Fitted on repeat buyers' average repeat-transaction value; assumes spend does not
// depend on how often a customer buys (check frequencySpendCorrelation).
import type { RftData } from './bgnbd.ts';
import { fitPositive } from './mle.ts';
import { lgamma } from './special.ts';

export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

/** Repeat buyers: number of repeat transactions (≥ 1) and their average value (> 0). */
export interface SpendData {
  x: Float64Array;
  meanSpend: Float64Array;
}

export interface GammaGammaFit {
  params: GammaGammaParams;
  logLikelihood: number;
  standardErrors: GammaGammaParams | null;
  converged: boolean;
  iterations: number;
}

/**
 * Σ log f(m | p, q, γ; x) with
 *   f = Γ(px+q)/(Γ(px)Γ(q)) · γ^q · m^(px−1) · x^(px) / (γ + m x)^(px+q).
 */
export function gammaGammaLogLikelihood({ p, q, v }: GammaGammaParams, { x, meanSpend }: SpendData): number {
  const base = q * Math.log(v) - lgamma(q);
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const px = p * x[i];
    const m = meanSpend[i];
    total += base + lgamma(px + q) - lgamma(px) + (px - 1) * Math.log(m) + px * Math.log(x[i]) - (px + q) * Math.log(v + m * x[i]);
  }
  return total;
}

// Shapes (p, q) to start from; γ then follows from the observed mean spend, E[m] = pγ/(q−1).
const START_SHAPES: [number, number][] = [
  [1, 2],
  [5, 4],
  [0.5, 1.5],
  [10, 10],
];

export function fitGammaGamma(data: SpendData): GammaGammaFit {
  checkSpend(data);
  if (data.x.length === 0) throw new Error('Gamma-Gamma: no repeat buyers to fit');
  const mean = data.meanSpend.reduce((s, m) => s + m, 0) / data.meanSpend.length;
  const starts = START_SHAPES.map(([p, q]) => Float64Array.of(p, q, (mean * (q - 1)) / p));
  const fit = fitPositive((v) => gammaGammaLogLikelihood(toParams(v), data), starts);
  return {
    params: toParams(fit.params),
    logLikelihood: fit.logLikelihood,
    standardErrors: fit.standardErrors && toParams(fit.standardErrors),
    converged: fit.converged,
    iterations: fit.iterations,
  };
}

// Fewer repeat buyers than this leave three spend parameters poorly determined.
export const MIN_REPEAT_BUYERS = 20;

export interface SpendFit {
  fit: GammaGammaFit | null;
  /** Why there is no fit. */
  reason: string | null;
  buyers: number;
  correlation: number | null;
}

/** Gamma–Gamma on the repeat buyers whose repeat purchases have a price (x > 0, meanSpend > 0). */
export function fitRepeatSpend(rft: Pick<RftData, 'x'>, meanSpend: Float64Array): SpendFit {
  const repeaters = [...rft.x.keys()].filter((i) => rft.x[i] > 0 && meanSpend[i] > 0);
  const buyers = repeaters.length;
  if (buyers < MIN_REPEAT_BUYERS) return { fit: null, reason: `${buyers} repeat buyers with spend (< ${MIN_REPEAT_BUYERS})`, buyers, correlation: null };
  const data = { x: Float64Array.from(repeaters, (i) => rft.x[i]), meanSpend: Float64Array.from(repeaters, (i) => meanSpend[i]) };
  return { fit: fitGammaGamma(data), reason: null, buyers, correlation: frequencySpendCorrelation(data) };
}

/**
 * E[spend per transaction | x repeat transactions averaging m] = p(γ + m x)/(px + q − 1):
 * a weighted mix of the population mean pγ/(q−1) and the customer's own average, the latter
 * weighing more with more transactions. With x = 0 it is the population mean (needs q > 1).
 */
export function expectedAverageSpend({ p, q, v }: GammaGammaParams, x: number, meanSpend: number): number {
  return (p * (v + meanSpend * x)) / (p * x + q - 1);
}

/** Pearson correlation of x and average spend: the model assumes it is near 0. */
export function frequencySpendCorrelation({ x, meanSpend }: SpendData): number {
  const n = x.length;
  let mx = 0;
  let mm = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    mm += meanSpend[i] / n;
  }
  let sxm = 0;
  let sxx = 0;
  let smm = 0;
  for (let i = 0; i < n; i++) {
    sxm += (x[i] - mx) * (meanSpend[i] - mm);
    sxx += (x[i] - mx) ** 2;
    smm += (meanSpend[i] - mm) ** 2;
  }
  return sxm / Math.sqrt(sxx * smm);
}

function toParams(v: Float64Array): GammaGammaParams {
  return { p: v[0], q: v[1], v: v[2] };
}

function checkSpend({ x, meanSpend }: SpendData): void {
  if (meanSpend.length !== x.length) throw new Error('spend data: x and meanSpend differ in length');
  for (let i = 0; i < x.length; i++) {
    if (!(Number.isInteger(x[i]) && x[i] >= 1)) throw new Error(`spend data: customer ${i}: x = ${x[i]} is not an integer ≥ 1`);
    if (!(meanSpend[i] > 0 && Number.isFinite(meanSpend[i]))) throw new Error(`spend data: customer ${i}: average spend ${meanSpend[i]} is not > 0`);
  }
}
