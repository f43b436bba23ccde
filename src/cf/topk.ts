// Bounded top-K selection over (index, score) pairs in typed arrays: O(n log K)
// time, no allocation per candidate.

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

  /** The score of the worst kept pair (the heap root): the K-th best once the heap is full. */
  get worstScore(): number {
    return this.n > 0 ? this.val[0] : -Infinity;
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

/** Is (scoreA, indexA) ranked after (scoreB, indexB)? */
function worse(scoreA: number, indexA: number, scoreB: number, indexB: number): boolean {
  return scoreA < scoreB || (scoreA === scoreB && indexA > indexB);
}
