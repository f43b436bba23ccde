// Unconstrained minimisation of a smooth function of a few variables, with numeric
// derivatives: Nelder–Mead to get near the minimum from a rough start without trusting
// gradients, then BFGS to converge tightly. Used on log-parameters, so every real
// vector is a valid point; the objective returns +Infinity where it cannot be evaluated.

export type Objective = (x: Float64Array) => number;

export interface Minimum {
  x: Float64Array;
  value: number;
  iterations: number;
  converged: boolean;
}

export interface NelderMeadOptions {
  /** Size of the initial simplex along each axis. */
  step?: number;
  maxIterations?: number;
  /** Stop when the simplex's values differ by less than this, relative to the best. */
  tolerance?: number;
}

/** Nelder–Mead with the standard coefficients (reflect 1, expand 2, contract ½, shrink ½). */
export function nelderMead(f: Objective, start: Float64Array, options: NelderMeadOptions = {}): Minimum {
  const { step = 0.5, maxIterations = 1000, tolerance = 1e-10 } = options;
  const n = start.length;
  const points: Float64Array[] = [Float64Array.from(start)];
  for (let i = 0; i < n; i++) {
    const p = Float64Array.from(start);
    p[i] += step;
    points.push(p);
  }
  const values = points.map(f);
  const centroid = new Float64Array(n);
  const along = (from: Float64Array, to: Float64Array, t: number): Float64Array => from.map((v, i) => v + t * (to[i] - v));
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
    const sortedPoints = order.map((i) => points[i]);
    const sortedValues = order.map((i) => values[i]);
    points.splice(0, n + 1, ...sortedPoints);
    values.splice(0, n + 1, ...sortedValues);
    const best = values[0];
    const worst = values[n];
    if (Number.isFinite(worst) && Math.abs(worst - best) <= tolerance * Math.max(1, Math.abs(best))) {
      return { x: points[0], value: best, iterations, converged: true };
    }
    centroid.fill(0);
    for (let p = 0; p < n; p++) for (let i = 0; i < n; i++) centroid[i] += points[p][i] / n;
    const reflected = along(centroid, points[n], -1);
    const fr = f(reflected);
    if (fr < values[0]) {
      const expanded = along(centroid, points[n], -2);
      const fe = f(expanded);
      [points[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr];
    } else if (fr < values[n - 1]) {
      [points[n], values[n]] = [reflected, fr];
    } else {
      // Contract towards the better of the worst point and its reflection.
      const outside = fr < values[n];
      const contracted = along(centroid, outside ? reflected : points[n], 0.5);
      const fc = f(contracted);
      if (fc < (outside ? fr : values[n])) {
        [points[n], values[n]] = [contracted, fc];
      } else {
        for (let p = 1; p <= n; p++) {
          points[p] = along(points[0], points[p], 0.5);
          values[p] = f(points[p]);
        }
      }
    }
  }
  const best = values.indexOf(Math.min(...values));
  return { x: points[best], value: values[best], iterations, converged: false };
}

/** Central-difference gradient with step h on every coordinate. */
function numericGradient(f: Objective, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  const probe = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    probe[i] = x[i] + h;
    const up = f(probe);
    probe[i] = x[i] - h;
    const down = f(probe);
    probe[i] = x[i];
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** Central second differences: H_ij ≈ [f(+i+j) − f(+i−j) − f(−i+j) + f(−i−j)] / 4h². */
export function numericHessian(f: Objective, x: Float64Array, h = 1e-4): number[][] {
  const n = x.length;
  const at = (di: number, i: number, dj: number, j: number): number => {
    const p = Float64Array.from(x);
    p[i] += di;
    p[j] += dj;
    return f(p);
  };
  const center = f(x);
  const hessian = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    hessian[i][i] = (at(h, i, 0, i) - 2 * center + at(-h, i, 0, i)) / (h * h);
    for (let j = 0; j < i; j++) {
      const v = (at(h, i, h, j) - at(h, i, -h, j) - at(-h, i, h, j) + at(-h, i, -h, j)) / (4 * h * h);
      hessian[i][j] = v;
      hessian[j][i] = v;
    }
  }
  return hessian;
}

export interface BfgsOptions {
  maxIterations?: number;
  /** Converged when max |gradient| ≤ this × max(1, |value|). */
  gradientTolerance?: number;
}

/** BFGS on the inverse Hessian, numeric gradients, backtracking (Armijo) line search. */
export function bfgs(f: Objective, start: Float64Array, options: BfgsOptions = {}): Minimum {
  const { maxIterations = 200, gradientTolerance = 1e-8 } = options;
  const n = start.length;
  let x = Float64Array.from(start);
  let value = f(x);
  let g = numericGradient(f, x);
  // Inverse-Hessian approximation, row-major; rescaled after the first step.
  let inv = identity(n);
  const small = (grad: Float64Array, v: number): boolean => maxAbs(grad) <= gradientTolerance * Math.max(1, Math.abs(v));
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (small(g, value)) return { x, value, iterations: iteration, converged: true };
    if (!Number.isFinite(value) || !g.every(Number.isFinite)) return { x, value, iterations: iteration, converged: false };
    let direction = multiply(inv, g).map((v) => -v);
    let slope = dot(direction, g);
    if (!(slope < 0)) {
      // Not a descent direction (the approximation went bad): restart from steepest descent.
      inv = identity(n);
      direction = g.map((v) => -v);
      slope = dot(direction, g);
    }
    let stepLength = 1;
    let next = x;
    let nextValue = value;
    for (let tries = 0; tries < 50; tries++, stepLength /= 2) {
      next = x.map((v, i) => v + stepLength * direction[i]);
      nextValue = f(next);
      if (nextValue <= value + 1e-4 * stepLength * slope) break;
    }
    if (!(nextValue < value)) return { x, value, iterations: iteration, converged: small(g, value) };
    const nextG = numericGradient(f, next);
    const s = next.map((v, i) => v - x[i]);
    const y = nextG.map((v, i) => v - g[i]);
    const sy = dot(s, y);
    if (sy > 0) {
      if (iteration === 0) inv = identity(n).map((v) => (v * sy) / dot(y, y));
      inv = bfgsUpdate(inv, s, y, sy);
    }
    x = next;
    value = nextValue;
    g = nextG;
  }
  return { x, value, iterations: maxIterations, converged: small(g, value) };
}

/**
 * Nelder–Mead from each start (a bounded number of iterations: only the best is kept),
 * then BFGS from the best.
 */
export function minimize(f: Objective, starts: Float64Array[], nelderMeadIterations = 300): Minimum {
  let best: Minimum | undefined;
  for (const start of starts) {
    const m = nelderMead(f, start, { maxIterations: nelderMeadIterations });
    if (!best || m.value < best.value) best = m;
  }
  if (!best) throw new Error('minimize needs at least one start');
  const polished = bfgs(f, best.x);
  return { ...polished, iterations: best.iterations + polished.iterations };
}

// H⁺ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1 / yᵀs.
function bfgsUpdate(inv: Float64Array, s: Float64Array, y: Float64Array, sy: number): Float64Array {
  const n = s.length;
  const rho = 1 / sy;
  const hy = multiply(inv, y);
  const yhy = dot(y, hy);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      out[i * n + j] = inv[i * n + j] - rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j];
    }
  }
  return out;
}

function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

function multiply(m: Float64Array, v: Float64Array): Float64Array {
  const n = v.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i] += m[i * n + j] * v[j];
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  return m;
}
