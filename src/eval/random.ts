// NumPy's legacy RandomState (MT19937) for `np.random.seed(s); np.random.rand(n)`,
// so a seeded split here draws the same numbers as Microsoft Recommenders' splitters
// and, on the same rows in the same order, yields the very same split.

const N = 624;
const M = 397;

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private pos = N;

  /** NumPy's `RandomState(seed)` / `np.random.seed(seed)` for an integer seed in [0, 2³²). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error('seed must be an integer in [0, 2^32)');
    this.state[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.state[i - 1] ^ (this.state[i - 1] >>> 30);
      this.state[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  nextUint32(): number {
    if (this.pos >= N) this.twist();
    let y = this.state[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits, as `np.random.rand()`. */
  nextDouble(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < N; i++) {
      const y = (s[i] & 0x80000000) | (s[(i + 1) % N] & 0x7fffffff);
      s[i] = s[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.pos = 0;
  }
}

/** Normalised cumulative weights of indices 0..n−1 (`weight` is called in index order). */
export function cumulative(n: number, weight: (i: number) => number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += weight(i);
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  return cdf;
}

/** The first index whose cumulative value exceeds x: with x uniform in [0, max), a draw by weight. */
export function drawIndex(cdf: Float64Array, x: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A standard normal draw (Box–Muller). */
export function gaussian(rng: Mt19937): number {
  return Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
}
