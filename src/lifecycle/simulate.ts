// Customers drawn from the BG/NBD and Gamma–Gamma models with a seeded generator: the
// ground truth of the estimation tests and of the fit benchmark.
import { Mt19937 } from '../eval/random.ts';
import type { BgNbdParams, RftData } from './bgnbd.ts';
import type { GammaGammaParams } from './gamma-gamma.ts';

export interface SimulationOptions {
  customers: number;
  /** Customer ages T are uniform in [minAge, maxAge] (a cohort acquired over a period). */
  minAge: number;
  maxAge: number;
  /** Length of a holdout period after T whose purchases are counted too. */
  holdout?: number;
  seed: number;
}

export interface SimulatedCustomers {
  rft: RftData;
  /** Repeat purchases in (T, T + holdout]. */
  holdoutPurchases: Float64Array;
  /** 1 when the customer had not dropped out by T: what P(alive) estimates. */
  aliveAtT: Uint8Array;
}

/**
 * Each customer buys first at time 0, then at Poisson rate λ ~ Gamma(r, α) until dropping out,
 * which happens after each repeat purchase with probability p ~ Beta(a, b).
 */
export function simulateBgNbd({ r, alpha, a, b }: BgNbdParams, options: SimulationOptions): SimulatedCustomers {
  const { customers, minAge, maxAge, holdout = 0, seed } = options;
  const random = new Random(seed);
  const rft: RftData = { x: new Float64Array(customers), tx: new Float64Array(customers), T: new Float64Array(customers) };
  const holdoutPurchases = new Float64Array(customers);
  const aliveAtT = new Uint8Array(customers).fill(1);
  for (let i = 0; i < customers; i++) {
    const T = minAge + (maxAge - minAge) * random.uniform();
    const lambda = random.gamma(r) / alpha;
    const p = random.beta(a, b);
    rft.T[i] = T;
    for (let t = random.exponential() / lambda; t <= T + holdout; t += random.exponential() / lambda) {
      if (t <= T) {
        rft.x[i]++;
        rft.tx[i] = t;
      } else {
        holdoutPurchases[i]++;
      }
      if (random.uniform() < p) {
        if (t <= T) aliveAtT[i] = 0;
        break;
      }
    }
  }
  return { rft, holdoutPurchases, aliveAtT };
}

/** Average value of x transactions per customer: values ~ Gamma(p, ν), ν ~ Gamma(q, γ). */
export function simulateSpend({ p, q, v }: GammaGammaParams, x: Float64Array, seed: number): Float64Array {
  const random = new Random(seed);
  return x.map((n) => {
    const nu = random.gamma(q) / v;
    let sum = 0;
    for (let k = 0; k < n; k++) sum += random.gamma(p) / nu;
    return sum / n;
  });
}

class Random {
  private readonly mt: Mt19937;

  constructor(seed: number) {
    this.mt = new Mt19937(seed);
  }

  /** Uniform in (0, 1]: safe to take the log of. */
  uniform(): number {
    return 1 - this.mt.nextDouble();
  }

  exponential(): number {
    return -Math.log(this.uniform());
  }

  normal(): number {
    return Math.sqrt(-2 * Math.log(this.uniform())) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 through Gamma(shape + 1) · U^(1/shape). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * this.uniform() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const z = this.normal();
      const v = (1 + c * z) ** 3;
      if (v > 0 && Math.log(this.uniform()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
    }
  }

  beta(a: number, b: number): number {
    const x = this.gamma(a);
    return x / (x + this.gamma(b));
  }
}
