// Bounded top-K selection over (index, score) pairs in typed arrays: O(n log K)
// time, no allocation per candidate; and SortAll, the same order when all pairs are kept.

/**
 * Keeps the K best pairs seen. Order: higher score first; equal scores → smaller
 * index first. Indices are assigned in sorted id order (InteractionsBuilder.build),
 * so this is also "lexicographically smaller id first", whatever the input order.
 */
export class TopK {
  private readonly idx: Uint32Array;
  private readonly val: Float64Array;
  private n = 0;

  constructor(readonly capacity: number) {
    this.idx = new Uint32Array(capacity);
    this.val = new Float64Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  push(index: number, score: number): void {
    if (this.n < this.capacity) {
      this.idx[this.n] = index;
      this.val[this.n] = score;
      this.siftUp(this.n++);
    } else if (this.capacity > 0 && worse(this.val[0], this.idx[0], score, index)) {
      // The heap root is the worst kept pair; the newcomer replaces it.
      this.idx[0] = index;
      this.val[0] = score;
      this.siftDown(0);
    }
  }

  /** Writes the kept pairs best first at `offset` and empties the heap; returns how many. */
  drainInto(indices: Uint32Array, scores: Float32Array | Float64Array, offset: number): number {
    const count = this.n;
    while (this.n > 0) {
      const last = offset + this.n - 1;
      indices[last] = this.idx[0];
      scores[last] = this.val[0];
      this.n--;
      if (this.n > 0) {
        this.idx[0] = this.idx[this.n];
        this.val[0] = this.val[this.n];
        this.siftDown(0);
      }
    }
    return count;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!worse(this.val[i], this.idx[i], this.val[parent], this.idx[parent])) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.n) return;
      const right = left + 1;
      let child = left;
      if (right < this.n && worse(this.val[right], this.idx[right], this.val[left], this.idx[left])) child = right;
      if (!worse(this.val[child], this.idx[child], this.val[i], this.idx[i])) return;
      this.swap(i, child);
      i = child;
    }
  }

  private swap(a: number, b: number): void {
    const i = this.idx[a];
    this.idx[a] = this.idx[b];
    this.idx[b] = i;
    const v = this.val[a];
    this.val[a] = this.val[b];
    this.val[b] = v;
  }
}

/** Which 32-bit word of a Float64Array element is its high one: 1 on little-endian platforms. */
const HIGH_WORD = new Uint32Array(new Float64Array([1]).buffer)[1] === 0x3ff00000 ? 1 : 0;

/**
 * TopK without the bound, for when every pair is kept: the same order, in less time than
 * the heap. drainInto puts the pairs in buckets by score with a counting pass (higher
 * scores in earlier buckets, and no comparisons: on random scores each one is a likely
 * branch misprediction), then sorts each bucket, which holds few pairs unless scores tie.
 * Scores must be > 0 (similarities are), whose bits then order as they do.
 */
export class SortAll {
  private readonly idx: Uint32Array;
  private readonly val: Float64Array;
  /** `val` as 32-bit words: its scores' high words (sign, exponent, 20 mantissa bits) at 2i + HIGH_WORD. */
  private readonly words: Uint32Array;
  private readonly sortedVal: Float64Array;
  private readonly bucketOf: Uint32Array;
  private readonly bucketEnd: Uint32Array;
  private n = 0;

  constructor(readonly capacity: number) {
    this.idx = new Uint32Array(capacity);
    this.val = new Float64Array(capacity);
    this.words = new Uint32Array(this.val.buffer);
    this.sortedVal = new Float64Array(capacity);
    this.bucketOf = new Uint32Array(capacity);
    this.bucketEnd = new Uint32Array(capacity + 1);
  }

  get size(): number {
    return this.n;
  }

  push(index: number, score: number): void {
    if (this.n === this.capacity || !(score > 0)) throw new RangeError(`SortAll takes up to ${this.capacity} pairs, scores > 0`);
    this.idx[this.n] = index;
    this.val[this.n++] = score;
  }

  /** Writes the pairs best first at `offset` and empties it; returns how many. */
  drainInto(indices: Uint32Array, scores: Float32Array | Float64Array, offset: number): number {
    const { n, idx, val, words, sortedVal, bucketOf, bucketEnd } = this;
    if (n === 0) return 0;
    let low = words[HIGH_WORD];
    let high = low;
    for (let i = 1; i < n; i++) {
      low = Math.min(low, words[2 * i + HIGH_WORD]);
      high = Math.max(high, words[2 * i + HIGH_WORD]);
    }
    // Bucket = (high - the score's high word) >>> shift, with the smallest shift that makes at
    // most n buckets (it ends: n = 1 means high = low). The key holds the exponent, so buckets
    // are narrower near 0, where similarities crowd, than equal-width ones would be.
    let shift = 0;
    while ((high - low) >>> shift >= n) shift++;
    const buckets = ((high - low) >>> shift) + 1;
    bucketEnd.fill(0, 0, buckets + 1);
    for (let i = 0; i < n; i++) {
      const b = (high - words[2 * i + HIGH_WORD]) >>> shift;
      bucketOf[i] = b;
      bucketEnd[b + 1]++;
    }
    for (let b = 1; b <= buckets; b++) bucketEnd[b] += bucketEnd[b - 1];
    // Counting sort: bucketEnd[b] moves from the bucket's start to its end.
    const sortedIdx = indices.subarray(offset, offset + n);
    for (let i = 0; i < n; i++) {
      const at = bucketEnd[bucketOf[i]]++;
      sortedIdx[at] = idx[i];
      sortedVal[at] = val[i];
    }
    let start = 0;
    for (let b = 0; b < buckets; b++) {
      if (bucketEnd[b] - start > 1) sortRange(sortedIdx, sortedVal, start, bucketEnd[b] - 1);
      start = bucketEnd[b];
    }
    scores.set(sortedVal.subarray(0, n), offset);
    this.n = 0;
    return n;
  }
}

/** Sorts pairs lo..hi in TopK's order: quicksort, insertion sort for short ranges. */
function sortRange(idx: Uint32Array, val: Float64Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const pivotScore = val[(lo + hi) >>> 1];
    const pivotIndex = idx[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (worse(pivotScore, pivotIndex, val[i], idx[i])) i++;
      while (worse(val[j], idx[j], pivotScore, pivotIndex)) j--;
      if (i <= j) swap(idx, val, i++, j--);
    }
    // Recursing into the smaller part keeps the stack O(log n) deep.
    if (j - lo < hi - i) {
      sortRange(idx, val, lo, j);
      lo = i;
    } else {
      sortRange(idx, val, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    for (let j = i; j > lo && worse(val[j - 1], idx[j - 1], val[j], idx[j]); j--) swap(idx, val, j - 1, j);
  }
}

function swap(idx: Uint32Array, val: Float64Array, a: number, b: number): void {
  const i = idx[a];
  idx[a] = idx[b];
  idx[b] = i;
  const v = val[a];
  val[a] = val[b];
  val[b] = v;
}

/** Is (scoreA, indexA) ranked after (scoreB, indexB)? */
function worse(scoreA: number, indexA: number, scoreB: number, indexB: number): boolean {
  return scoreA < scoreB || (scoreA === scoreB && indexA > indexB);
}
