// A user's purchases as shopping occasions: every purchase in one time bucket (a UTC
// day by default) is one occasion, so a basket of lines, or two trips on one day, count
// once. Build (item statistics) and serving (one user's history) both group with this.
import { SECONDS_PER_DAY } from '../../lib/time.ts';

export const DEFAULT_OCCASION_SECONDS = SECONDS_PER_DAY;

export interface Purchase<K> {
  item: K;
  /** Unix seconds. */
  ts: number;
}

export interface ItemOccasions {
  /** Indices of the user's occasions holding the item, ascending. */
  occasions: number[];
  /** Latest purchase of the item, unix seconds. */
  last: number;
}

export interface Occasions<K> {
  /** Bucket number of each occasion (floor(ts / occasionSeconds)), ascending. */
  buckets: Float64Array;
  /** Latest purchase of any item, unix seconds (−Infinity when there is none). */
  last: number;
  items: Map<K, ItemOccasions>;
  occasionSeconds: number;
}

/** Groups one user's purchases (any order) into occasions. */
export function occasionsOf<K>(purchases: Iterable<Purchase<K>>, occasionSeconds = DEFAULT_OCCASION_SECONDS): Occasions<K> {
  if (!(occasionSeconds > 0)) throw new RangeError('occasionSeconds must be > 0');
  const sorted = [...purchases].sort((a, b) => a.ts - b.ts);
  const buckets: number[] = [];
  const items = new Map<K, ItemOccasions>();
  for (const { item, ts } of sorted) {
    const bucket = Math.floor(ts / occasionSeconds);
    if (buckets.length === 0 || buckets[buckets.length - 1] !== bucket) buckets.push(bucket);
    const o = buckets.length - 1;
    const entry = items.get(item);
    if (!entry) items.set(item, { occasions: [o], last: ts });
    else {
      if (entry.occasions[entry.occasions.length - 1] !== o) entry.occasions.push(o);
      entry.last = ts;
    }
  }
  return { buckets: Float64Array.from(buckets), last: sorted.length ? sorted[sorted.length - 1].ts : -Infinity, items, occasionSeconds };
}

/** ln(days) between consecutive occasions of an item: whole buckets, so never below one bucket. */
export function logGaps(o: Occasions<unknown>, item: ItemOccasions): number[] {
  const bucketDays = o.occasionSeconds / SECONDS_PER_DAY;
  const out: number[] = [];
  for (let k = 1; k < item.occasions.length; k++) {
    out.push(Math.log((o.buckets[item.occasions[k]] - o.buckets[item.occasions[k - 1]]) * bucketDays));
  }
  return out;
}
