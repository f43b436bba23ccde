// Request-time scoring over stored neighbour lists (SAR's score = affinity ·
// similarity): score(j) = Σ_seeds weight(seed) · score(seed → j). The HTTP API and
// the offline evaluation both call this, so what is measured is what is served.

/**
 * A neighbour list, best first, with each neighbour's slot: a small integer naming the item
 * in the caller's item space (the model's item index, or the serving store's per-version
 * numbering, src/store/redis/item-slots.ts). Scores then add up in a typed array indexed by slot,
 * not in a string-keyed map: that map was most of the cost of a personalised block.
 */
export interface SlottedList {
  ids: readonly string[];
  // Always these two array types: one shape for every list keeps the scoring loop optimized
  // (plain arrays of varying element kinds made V8 deoptimize it again and again).
  scores: Float64Array;
  slots: Int32Array;
  /** 1 + the largest slot (0 when empty): how far the accumulators must reach. */
  slotBound: number;
}

export function slottedList(ids: readonly string[], scores: ArrayLike<number>, slots: ArrayLike<number>): SlottedList {
  const list = { ids, scores: Float64Array.from(scores), slots: Int32Array.from(slots), slotBound: 0 };
  for (let k = 0; k < slots.length; k++) if (slots[k] >= list.slotBound) list.slotBound = slots[k] + 1;
  return list;
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
  /** The best `limit` candidates so far, best first: scores, ids and record offsets. */
  topScores = new Float64Array(0);
  topIds: string[] = [];
  topRecords = new Int32Array(0);
  epoch = 0;

  /** Starts a call over slots 0..slotBound-1 touching at most `touches` of them. */
  begin(slotBound: number, touches: number, limit: number): void {
    if (4 * slotBound > this.records.length) {
      this.records = new Float64Array(4 * Math.max(slotBound, this.records.length / 2));
      this.epoch = 0;
    }
    if (touches > this.touched.length) this.touched = new Int32Array(Math.max(touches, 2 * this.touched.length));
    if (limit > this.topScores.length) {
      this.topScores = new Float64Array(limit);
      this.topRecords = new Int32Array(limit);
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
  const touches = Math.min(entries, slotBound);
  // No more can be returned than were touched: an unbounded limit (a filter that may reject any
  // candidate asks for all of them) must not size the scratch arrays.
  const limit = Math.max(0, Math.min(options.limit, touches));
  acc.begin(slotBound, touches, limit);
  const { records, touched, topScores, topIds, topRecords, epoch } = acc;
  let n = 0;
  for (let o = 0; o < ordered.length; o++) {
    const {
      weight,
      neighbours: { scores: sims, slots },
    } = ordered[o];
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
  // The best contributor's list holds the item: its id and `because` come from there.
  const seedOf = (r: number) => ordered[Math.floor(records[r + ORIGIN] / ORIGIN_SEED)];

  // The best `limit` in one pass, by insertion into a list kept sorted. A candidate's id is read,
  // and checked against the exclusions, only if its score would enter that list: that is about
  // limit·ln(candidates) of them, not every candidate (a heavy buyer's exclusions number
  // thousands, a block's candidates hundreds).
  const isSeed = new Set(ordered.map((seed) => seed.item));
  const exclude = options.exclude;
  let m = 0;
  for (let t = 0; t < n; t++) {
    const r = touched[t];
    const score = records[r + SCORE];
    if (!(score > 0) || (m === limit && !(score >= topScores[m - 1]))) continue;
    const id = seedOf(r).neighbours.ids[records[r + ORIGIN] % ORIGIN_SEED];
    if (m === limit && score === topScores[m - 1] && !(id < topIds[m - 1])) continue;
    if (isSeed.has(id) || exclude?.has(id)) continue;
    let p = m < limit ? m++ : m - 1;
    for (; p > 0 && (score > topScores[p - 1] || (score === topScores[p - 1] && id < topIds[p - 1])); p--) {
      topScores[p] = topScores[p - 1];
      topIds[p] = topIds[p - 1];
      topRecords[p] = topRecords[p - 1];
    }
    topScores[p] = score;
    topIds[p] = id;
    topRecords[p] = r;
  }
  const out = new Array<Recommendation>(m);
  for (let p = 0; p < m; p++) out[p] = { item: topIds[p], score: topScores[p], because: seedOf(topRecords[p]).item };
  return out;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
