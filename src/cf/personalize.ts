// Request-time scoring over stored neighbour lists (SAR's score = affinity ·
// similarity): score(j) = Σ_seeds weight(seed) · score(seed → j). The HTTP API and
// the offline evaluation both call this, so what is measured is what is served.

/**
 * A neighbour list, best first, with each neighbour's slot: a small integer naming the item
 * in the caller's item space (the model's item index, or the serving store's per-version
 * numbering, src/store/item-slots.ts). Scores then add up in typed arrays indexed by slot,
 * not in a string-keyed map: that map was most of the cost of a personalised block.
 */
export interface SlottedList {
  ids: readonly string[];
  scores: ArrayLike<number>;
  slots: ArrayLike<number>;
}

export interface Seed {
  item: string;
  /** The user's affinity to the seed (see affinity()). */
  weight: number;
  /** The seed's stored neighbour list, best first. */
  neighbours: SlottedList;
}

export interface Recommendation {
  item: string;
  score: number;
  /** The seed that contributed most to the score ("because you bought …"). */
  because: string;
}

export interface PersonalizeOptions {
  limit: number;
  /** Items never returned (already bought, shown elsewhere). Seeds are always excluded. */
  exclude?: ReadonlySet<string>;
}

/**
 * Per-slot accumulators shared by every call (scoring is synchronous, so calls never
 * overlap). A slot belongs to the current call when its stamp is the call's epoch, so
 * nothing is cleared between calls.
 */
class Accumulators {
  stamp = new Uint32Array(0);
  score = new Float64Array(0);
  /** The largest single contribution, and the seed (its position in id order) that made it. */
  best = new Float64Array(0);
  because = new Int32Array(0);
  /** Where the slot was first seen (seed position, index in its list): how to find its id. */
  seenIn = new Int32Array(0);
  seenAt = new Int32Array(0);
  /** The slots touched by the current call, in first-seen order. */
  touched = new Int32Array(0);
  /** Scratch for the selection of a cut-off score. */
  values = new Float64Array(0);
  epoch = 0;

  /** Starts a call over slots 0..size-1 touching at most `entries` of them. */
  begin(size: number, entries: number): void {
    if (size > this.stamp.length) {
      const capacity = Math.max(size, 2 * this.stamp.length);
      this.stamp = new Uint32Array(capacity);
      this.score = new Float64Array(capacity);
      this.best = new Float64Array(capacity);
      this.because = new Int32Array(capacity);
      this.seenIn = new Int32Array(capacity);
      this.seenAt = new Int32Array(capacity);
      this.epoch = 0;
    }
    if (entries > this.touched.length) {
      const capacity = Math.max(entries, 2 * this.touched.length);
      this.touched = new Int32Array(capacity);
      this.values = new Float64Array(capacity);
    }
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
  }
}

const acc = new Accumulators();

/**
 * Items ranked by score, highest first; equal scores → smaller id (JS `<`) first;
 * `because` ties → smaller seed id. Seeds are processed in id order, so the result
 * does not depend on their order. Only positively scored items are returned.
 */
export function personalize(seeds: readonly Seed[], options: PersonalizeOptions): Recommendation[] {
  const ordered = [...seeds].sort((a, b) => compareIds(a.item, b.item));
  let size = 0;
  let entries = 0;
  for (const seed of ordered) {
    const slots = seed.neighbours.slots;
    for (let k = 0; k < slots.length; k++) if (slots[k] >= size) size = slots[k] + 1;
    entries += slots.length;
  }
  acc.begin(size, entries);
  const { stamp, score, best, because, seenIn, seenAt, touched, epoch } = acc;
  let n = 0;
  for (let o = 0; o < ordered.length; o++) {
    const { weight, neighbours: { scores: sims, slots } } = ordered[o];
    for (let k = 0; k < slots.length; k++) {
      const s = slots[k];
      const contribution = weight * sims[k];
      if (stamp[s] !== epoch) {
        stamp[s] = epoch;
        score[s] = contribution;
        best[s] = contribution;
        because[s] = o;
        seenIn[s] = o;
        seenAt[s] = k;
        touched[n++] = s;
        continue;
      }
      score[s] += contribution;
      // Seeds arrive in id order, so on equal contributions the first (smaller) seed stays.
      if (contribution > best[s]) {
        best[s] = contribution;
        because[s] = o;
      }
    }
  }
  const idOf = (s: number) => ordered[seenIn[s]].neighbours.ids[seenAt[s]];

  // Exclusions are checked only for candidates that could make the cut, not for every one
  // (a heavy buyer's purchases number thousands, a block's candidates about a thousand): the
  // cut-off is the k-th best score with room for the seeds, and is lowered while exclusions
  // leave fewer than `limit` candidates above it.
  const isSeed = new Set(ordered.map((seed) => seed.item));
  const limit = options.limit;
  for (let k = limit + isSeed.size; ; k *= 4) {
    const cutoff = kthBestScore(touched, n, score, k);
    const kept: number[] = [];
    const keptIds: string[] = [];
    for (let t = 0; t < n; t++) {
      const s = touched[t];
      if (!(score[s] > 0 && score[s] >= cutoff)) continue;
      const id = idOf(s);
      if (isSeed.has(id) || options.exclude?.has(id)) continue;
      kept.push(s);
      keptIds.push(id);
    }
    if (kept.length < limit && cutoff > -Infinity) continue;
    const order = kept.map((_, i) => i).sort((a, b) => score[kept[b]] - score[kept[a]] || compareIds(keptIds[a], keptIds[b]));
    return order.slice(0, limit).map((i) => ({ item: keptIds[i], score: score[kept[i]], because: ordered[because[kept[i]]].item }));
  }
}

/** The k-th highest score of the n touched slots; −Infinity when there are at most k. */
function kthBestScore(touched: Int32Array, n: number, score: Float64Array, k: number): number {
  if (k <= 0 || n <= k) return -Infinity;
  const values = acc.values;
  for (let t = 0; t < n; t++) values[t] = score[touched[t]];
  return kthLargest(values, n, k);
}

/** Quickselect (Hoare partition, descending): the k-th largest of values[0..n); reorders them. */
function kthLargest(values: Float64Array, n: number, k: number): number {
  const target = k - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) {
        const swap = values[i];
        values[i++] = values[j];
        values[j--] = swap;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target];
  }
  return values[target];
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
