// Special functions the lifecycle models need, written out because Node has none:
// log-gamma (Lanczos), the Gaussian hypergeometric series 2F1, and a tanh-sinh
// quadrature on (0, 1) for integrals whose integrand is singular at an end.

// Lanczos approximation, g = 7, 9 terms: about 15 significant digits for x ≥ 0.5.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0 (NaN otherwise). */
export function lgamma(x: number): number {
  if (!(x > 0)) return NaN;
  // Reflection keeps the approximation where it is accurate: Γ(x)Γ(1−x) = π / sin(πx).
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  const z = x - 1;
  let series = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) series += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(series);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function logBeta(a: number, b: number): number {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

const SERIES_TOLERANCE = 1e-15;

/**
 * 2F1(a, b; c; z) = Σₙ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ by its power series, for c > 0 and 0 ≤ z < 1.
 * The sum stops when the tail is provably below the tolerance: once the term ratio q_n < 1,
 * the later ratios stay below max(q_n, z) (they tend to z monotonically from there), so the
 * tail is at most term · q / (1 − q). Returns NaN when that has not happened after
 * `maxTerms` terms (z close to 1 converges slowly): the caller then takes another route.
 */
export function hyp2f1(a: number, b: number, c: number, z: number, maxTerms = 5000): number {
  if (!(c > 0) || !(z >= 0 && z < 1)) return NaN;
  let term = 1;
  let sum = 1;
  for (let n = 0; n < maxTerms; n++) {
    const ratio = (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    term *= ratio;
    sum += term;
    if (term === 0) return sum;
    const q = Math.max(Math.abs(ratio), z);
    if (q < 1 && (Math.abs(term) * q) / (1 - q) <= SERIES_TOLERANCE * Math.abs(sum)) return sum;
  }
  return NaN;
}

// tanh-sinh nodes run to |t| = 5.5, where the distance of a node from 0 or 1 is about 1e-167:
// far enough for integrands like p^(−0.9), close enough that no node rounds to 0 or 1.
const TANH_SINH_EDGE = 5.5;
const TANH_SINH_LEVELS = 10;

/**
 * ∫₀¹ f(x) dx by tanh-sinh (double-exponential) quadrature, which handles algebraic
 * singularities at both ends. f gets x and 1 − x, each computed without cancellation, so an
 * integrand singular at 1 can use the complement directly. Halves the step until two
 * successive estimates agree to `tolerance` (relative); returns the last estimate.
 */
export function integrateUnitInterval(f: (x: number, complement: number) => number, tolerance = 1e-12): number {
  // x(t) = σ(π sinh t), dx/dt = π cosh t · x (1 − x).
  const node = (t: number): number => {
    const s = Math.PI * Math.sinh(t);
    const x = 1 / (1 + Math.exp(-s));
    const complement = 1 / (1 + Math.exp(s));
    if (x === 0 || complement === 0) return 0;
    return f(x, complement) * Math.PI * Math.cosh(t) * x * complement;
  };
  let h = 1;
  let sum = node(0);
  for (let t = h; t <= TANH_SINH_EDGE; t += h) sum += node(t) + node(-t);
  let estimate = sum * h;
  for (let level = 1; level <= TANH_SINH_LEVELS; level++) {
    h /= 2;
    for (let t = h; t <= TANH_SINH_EDGE; t += 2 * h) sum += node(t) + node(-t);
    const next = sum * h;
    if (level >= 3 && Math.abs(next - estimate) <= tolerance * Math.abs(next)) return next;
    estimate = next;
  }
  return estimate;
}
