// Request-time scoring over stored neighbour lists (SAR's score = affinity ·
// similarity): score(j) = Σ_seeds weight(seed) · score(seed → j). The HTTP API and
// the offline evaluation both call this, so what is measured is what is served.

/**
 * A neighbour list, best first, with each neighbour's slot: a small integer naming the item
 * in the caller's item space (the model's item index, or the serving store's per-version
 * numbering, src/store/item-slots.ts). Scores then add up in a typed array indexed by slot,
 * not in a string-keyed map: that map was most of the cost of a personalised block.
 */
export interface SlottedList {
  ids: readonly string[];
  scores: ArrayLike<number>;
  slots: ArrayLike<number>;
  /** 1 + the largest slot (0 when empty): how far the accumulators must reach. */
  slotBound: number;
}

export function slottedList(ids: readonly string[], scores: ArrayLike<number>, slots: ArrayLike<number>): SlottedList {
  let slotBound = 0;
  for (let k = 0; k < slots.length; k++) if (slots[k] >= slotBound) slotBound = slots[k] + 1;
  return { ids, scores, slots, slotBound };
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

// Per-slot accumulators, one record of 4 numbers per slot in one array: scattered updates
// then touch one cache line per item, not one per field (a quarter faster than 4 arrays).
const STAMP = 0; // the call that owns the record (nothing is cleared between calls)
const SCORE = 1;
const BEST = 2; // the largest single contribution
const ORIGIN = 3; // where it came from: seed position · 2^26 + index in that seed's list
const ORIGIN_SEED = 2 ** 26; // longer lists are refused (a catalog of 67M items, unslotted)

/** Scratch shared by every call: scoring is synchronous, so calls never overlap. */
class Accumulators {
  records = new Float64Array(0);
  /** Record offsets touched by the current call, in first-seen order. */
  touched = new Int32Array(0);
  /** Their final scores, in the same order: read in sequence, not scattered. */
  scores = new Float64Array(0);
  /** Scratch for the selection of a cut-off score. */
  values = new Float64Array(0);
  epoch = 0;

  /** Starts a call over slots 0..slotBound-1 touching at most `touches` of them. */
  begin(slotBound: number, touches: number): void {
    if (4 * slotBound > this.records.length) {
      this.records = new Float64Array(4 * Math.max(slotBound, this.records.length / 2));
      this.epoch = 0;
    }
    if (touches > this.touched.length) {
      const capacity = Math.max(touches, 2 * this.touched.length);
      this.touched = new Int32Array(capacity);
      this.scores = new Float64Array(capacity);
      this.values = new Float64Array(capacity);
    }
    this.epoch++;
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
  let slotBound = 0;
  let entries = 0;
  for (const { neighbours } of ordered) {
    if (neighbours.slots.length >= ORIGIN_SEED) throw new RangeError(`a neighbour list of ${neighbours.slots.length} items is too long to score`);
    slotBound = Math.max(slotBound, neighbours.slotBound);
    entries += neighbours.slots.length;
  }
  // A slot is touched once per call: SAR-style untruncated lists hold many more entries than slots.
  acc.begin(slotBound, Math.min(entries, slotBound));
  const { records, touched, scores, epoch } = acc;
  let n = 0;
  for (let o = 0; o < ordered.length; o++) {
    const { weight, neighbours: { scores: sims, slots } } = ordered[o];
    const seedOrigin = o * ORIGIN_SEED;
    for (let k = 0; k < slots.length; k++) {
      const r = 4 * slots[k];
      const contribution = weight * sims[k];
      if (records[r + STAMP] !== epoch) {
        records[r + STAMP] = epoch;
        records[r + SCORE] = contribution;
        records[r + BEST] = contribution;
        records[r + ORIGIN] = seedOrigin + k;
        touched[n++] = r;
        continue;
      }
      records[r + SCORE] += contribution;
      // Seeds arrive in id order, so on equal contributions the first (smaller) seed stays.
      if (contribution > records[r + BEST]) {
        records[r + BEST] = contribution;
        records[r + ORIGIN] = seedOrigin + k;
      }
    }
  }
  for (let t = 0; t < n; t++) scores[t] = records[touched[t] + SCORE];
  // The best contributor's list holds the item: its id and `because` come from there.
  const seedOf = (r: number) => ordered[Math.floor(records[r + ORIGIN] / ORIGIN_SEED)];
  const idOf = (r: number) => seedOf(r).neighbours.ids[records[r + ORIGIN] % ORIGIN_SEED];

  // Exclusions are checked only for candidates that could make the cut, not for every one
  // (a heavy buyer's purchases number thousands, a block's candidates hundreds): the cut-off
  // is the k-th best score with room for the seeds, and is lowered while exclusions leave
  // fewer than `limit` candidates above it.
  const isSeed = new Set(ordered.map((seed) => seed.item));
  const limit = options.limit;
  for (let k = limit + isSeed.size; ; k *= 4) {
    const cutoff = kthBestScore(scores, n, k);
    const kept: number[] = [];
    const keptIds: string[] = [];
    for (let t = 0; t < n; t++) {
      if (!(scores[t] > 0 && scores[t] >= cutoff)) continue;
      const id = idOf(touched[t]);
      if (isSeed.has(id) || options.exclude?.has(id)) continue;
      kept.push(t);
      keptIds.push(id);
    }
    if (kept.length < limit && cutoff > -Infinity) continue;
    const order = kept.map((_, i) => i).sort((a, b) => scores[kept[b]] - scores[kept[a]] || compareIds(keptIds[a], keptIds[b]));
    return order.slice(0, limit).map((i) => ({ item: keptIds[i], score: scores[kept[i]], because: seedOf(touched[kept[i]]).item }));
  }
}

/** The k-th highest positive score of scores[0..n); −Infinity when fewer than k are positive. */
function kthBestScore(scores: Float64Array, n: number, k: number): number {
  if (k <= 0 || n <= k) return -Infinity;
  const values = acc.values;
  // Only positive scores are ever returned; anything else (NaN included) must not set the cut-off.
  for (let t = 0; t < n; t++) values[t] = scores[t] > 0 ? scores[t] : -Infinity;
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
