// User–item interactions as parallel typed arrays over dense indices: the one
// input format of every model in src/cf and of the evaluation in src/eval.

import type { EventType } from '../config.ts';

export interface Interactions {
  /** Index → id. Sorted (JS `<`, i.e. UTF-16 code units), so a smaller index is a smaller id. */
  userIds: string[];
  itemIds: string[];
  users: Uint32Array;
  items: Uint32Array;
  weights: Float32Array;
  /** Unix seconds. */
  times: Float64Array;
  /** 1 where the row is browsing (a view or a cart, not a purchase or rating): the evaluation's recently-viewed history; buy-again leaves it out. */
  views?: Uint8Array;
}

/** One event as a reader yields it: either an explicit weight (rating) or an event type. */
export interface InteractionRecord {
  user: string;
  item: string;
  weight?: number;
  type?: EventType;
  /** Unix seconds. */
  ts: number;
}

export class InteractionsBuilder {
  private readonly userIndex = new Map<string, number>();
  private readonly itemIndex = new Map<string, number>();
  private users = new Uint32Array(1024);
  private items = new Uint32Array(1024);
  private weights = new Float32Array(1024);
  private times = new Float64Array(1024);
  private views = new Uint8Array(1024);
  private n = 0;

  get length(): number {
    return this.n;
  }

  add(user: string, item: string, weight: number, unixSeconds: number, view = false): void {
    if (this.n === this.users.length) this.grow();
    this.users[this.n] = indexOf(this.userIndex, user);
    this.items[this.n] = indexOf(this.itemIndex, item);
    this.weights[this.n] = weight;
    this.times[this.n] = unixSeconds;
    this.views[this.n] = view ? 1 : 0;
    this.n++;
  }

  /**
   * Renumbers users and items in sorted id order, so that "smaller index" and
   * "smaller id" agree: every tie-break in src/cf compares indices and is then
   * independent of the order the events arrived in.
   */
  build(): Interactions {
    const [userIds, userMap] = sortedIds(this.userIndex);
    const [itemIds, itemMap] = sortedIds(this.itemIndex);
    const users = new Uint32Array(this.n);
    const items = new Uint32Array(this.n);
    for (let r = 0; r < this.n; r++) {
      users[r] = userMap[this.users[r]];
      items[r] = itemMap[this.items[r]];
    }
    return { userIds, itemIds, users, items, weights: this.weights.slice(0, this.n), times: this.times.slice(0, this.n), views: this.views.slice(0, this.n) };
  }

  private grow(): void {
    const size = this.users.length * 2;
    this.users = resized(this.users, new Uint32Array(size));
    this.items = resized(this.items, new Uint32Array(size));
    this.weights = resized(this.weights, new Float32Array(size));
    this.times = resized(this.times, new Float64Array(size));
    this.views = resized(this.views, new Uint8Array(size));
  }
}

/**
 * Adds records (from a file reader or a data-set importer) to a builder. Event
 * types are mapped through `eventWeights`; a weight of 0 (or less) leaves the
 * event out, as EVENT_WEIGHTS documents. Returns the number of events added.
 */
export async function addRecords(builder: InteractionsBuilder, records: AsyncIterable<InteractionRecord> | Iterable<InteractionRecord>, eventWeights: Record<EventType, number>): Promise<number> {
  const before = builder.length;
  for await (const r of records) {
    const weight = r.weight ?? (r.type === undefined ? 1 : eventWeights[r.type]);
    // Anything but a purchase (a view, a cart) is browsing: buy-again counts purchases only.
    if (weight > 0) builder.add(r.user, r.item, weight, r.ts, r.type !== undefined && r.type !== 'purchase');
  }
  return builder.length - before;
}

export async function collectInteractions(records: AsyncIterable<InteractionRecord> | Iterable<InteractionRecord>, eventWeights: Record<EventType, number>): Promise<Interactions> {
  const builder = new InteractionsBuilder();
  await addRecords(builder, records, eventWeights);
  return builder.build();
}

/** The interactions at the given rows, sharing the id dictionaries (indices stay comparable). */
export function selectRows(x: Interactions, rows: Uint32Array): Interactions {
  const n = rows.length;
  const out: Interactions = {
    userIds: x.userIds,
    itemIds: x.itemIds,
    users: new Uint32Array(n),
    items: new Uint32Array(n),
    weights: new Float32Array(n),
    times: new Float64Array(n),
    views: x.views && new Uint8Array(n),
  };
  for (let k = 0; k < n; k++) {
    const r = rows[k];
    out.users[k] = x.users[r];
    out.items[k] = x.items[r];
    out.weights[k] = x.weights[r];
    out.times[k] = x.times[r];
    if (x.views) out.views![k] = x.views[r];
  }
  return out;
}

/** Latest event time, the default "now" of time decay (as SAR does). 0 when empty. */
export function latestTime(x: Interactions): number {
  let max = 0;
  for (let r = 0; r < x.times.length; r++) if (x.times[r] > max) max = x.times[r];
  return max;
}

function indexOf(index: Map<string, number>, id: string): number {
  let i = index.get(id);
  if (i === undefined) {
    i = index.size;
    index.set(id, i);
  }
  return i;
}

function sortedIds(index: Map<string, number>): [string[], Uint32Array] {
  const ids = [...index.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const remap = new Uint32Array(ids.length);
  ids.forEach((id, sorted) => {
    remap[index.get(id)!] = sorted;
  });
  return [ids, remap];
}

function resized<T extends Uint8Array | Uint32Array | Float32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
