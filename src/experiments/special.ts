// The special functions behind the report's p-values and intervals: log-gamma, the regularized
// incomplete gamma and beta functions, and from them the normal, chi-square and Student t distributions.
// Standard numerical methods (Lanczos; series and Lentz continued fractions); no I/O, no state.

const EPS = 1e-15;
const TINY = 1e-300;
const MAX_ITERATIONS = 100_000;

// Lanczos approximation, g = 7, n = 9: ~15 significant digits for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Q(a, x) = Γ(a, x) / Γ(a), the upper regularized incomplete gamma function. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const prefactor = Math.exp(-x + a * Math.log(x) - lnGamma(a));
  if (x < a + 1) {
    // Series for P(a, x), converging fast below a + 1.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS && Math.abs(term) > Math.abs(sum) * EPS; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.max(0, 1 - sum * prefactor);
  }
  // Continued fraction for Q(a, x) (modified Lentz), converging fast above a + 1.
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return prefactor * h;
}

/** I_x(a, b), the regularized incomplete beta function. */
export function betaI(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast on the side of the mean; use the symmetry on the other.
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const clamp = (v: number) => (Math.abs(v) < TINY ? TINY : v);
  let c = 1;
  let d = 1 / clamp(1 - ((a + b) * x) / (a + 1));
  let h = d;
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 / clamp(1 + even * d);
    c = clamp(1 + even / c);
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 / clamp(1 + odd * d);
    c = clamp(1 + odd / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h;
}

/** P(X ≥ x) for X ~ χ²(df). */
export function chiSquareSurvival(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

/** P(|T| ≥ |t|) for T ~ Student t(df); df need not be whole (Welch). */
export function studentTTwoSided(t: number, df: number): number {
  return betaI(df / (df + t * t), df / 2, 0.5);
}

/** The t with P(|T| ≥ t) = alpha, e.g. alpha 0.05 → the 97.5% quantile (1.96 as df → ∞). */
export function studentTCritical(alpha: number, df: number): number {
  let low = 0;
  let high = 1;
  while (studentTTwoSided(high, df) > alpha) high *= 2;
  // Bisection: the tail probability is monotone in t, and 60 halvings reach double precision.
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (studentTTwoSided(mid, df) > alpha) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** P(Z ≥ x) for x ≥ 0: erfc(x/√2)/2 is Q(1/2, x²/2)/2, accurate far into the tail. */
function normalUpperTail(x: number): number {
  return 0.5 * gammaQ(0.5, (x * x) / 2);
}

/** Φ(x), the standard normal CDF. */
export function normalCdf(x: number): number {
  return x < 0 ? normalUpperTail(-x) : 1 - normalUpperTail(x);
}

/** Φ⁻¹(p) for p in (0, 1) (±Infinity at 0 and 1), e.g. 0.975 → 1.959963984540054. */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  // Search the smaller tail, so p near 0 keeps its precision (1 − p would round it away).
  const tail = Math.min(p, 1 - p);
  let low = 0;
  let high = 1;
  while (normalUpperTail(high) > tail) high *= 2;
  // Bisection, as studentTCritical: the tail is monotone, and 60 halvings reach double precision.
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (normalUpperTail(mid) > tail) low = mid;
    else high = mid;
  }
  const x = (low + high) / 2;
  return p < 0.5 ? -x : x;
}
