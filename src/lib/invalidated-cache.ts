// Values that depend on data another process may change (a user's history), kept until told that
// the data changed or for at most `maxAgeMs`. Each value lives under the tag of the data it was
// made from (its owner) and may depend on more tags (a linked id's customer): invalidating a tag
// drops the values of that tag and of those depending on it.
//
// A value is only kept if none of its tags changed while it was being made: the caller takes a
// mark before reading the data and hands it back with the value. A mark taken while the source
// of invalidations is not connected is no mark at all (nothing made then is kept), and
// reconnecting, like any "everything changed", invalidates every mark taken before.
import type { CacheSpace, LruCache } from './lru-cache.ts';

interface Timed<V> {
  value: V;
  at: number;
}

/** What a caller gets before reading: hand it back to `keep`. */
export type Mark = number;
const NO_MARK: Mark = -1;

// Tags changed since the oldest mark still in use are remembered up to this many; past it they
// are forgotten at once and every earlier mark counts as stale (a value is then made but not kept).
const CHANGED_TAGS_KEPT = 10_000;
const ENTRY_OVERHEAD_BYTES = 200;
const SWEEP_MIN_SPACES = 1024;

export class InvalidatedCache<V> {
  private readonly spaces = new Map<string, CacheSpace<Timed<V>>>();
  /** Owners of values that also depend on a tag (the ids linked to a customer, by the customer). */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly changedAt = new Map<string, number>();
  private sequence = 0;
  /** Marks below this are stale whatever their tags. */
  private floor = 0;
  private connected = false;
  private sweepAt = SWEEP_MIN_SPACES;

  constructor(
    private readonly lru: LruCache,
    private readonly maxAgeMs: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** The value `key` of `tag`, if kept and younger than the maximum age. */
  get(tag: string, key: string): V | undefined {
    const space = this.spaces.get(tag);
    if (space === undefined) {
      this.lru.counted(false);
      return undefined;
    }
    const entry = space.get(key);
    if (entry === undefined || this.now() - entry.at > this.maxAgeMs) return undefined;
    return entry.value;
  }

  /** Taken before reading what a value is made of. */
  mark(): Mark {
    return this.connected ? this.sequence : NO_MARK;
  }

  /** Keeps `value` under `tags[0]`, unless any of `tags` changed since `mark` was taken. */
  keep(mark: Mark, tags: readonly string[], key: string, value: V, bytes: number): void {
    if (mark === NO_MARK || mark < this.floor) return;
    for (const tag of tags) if ((this.changedAt.get(tag) ?? NO_MARK) > mark) return;
    const [owner, ...others] = tags;
    let space = this.spaces.get(owner);
    if (space === undefined) {
      if (this.spaces.size >= this.sweepAt) this.sweep();
      this.spaces.set(owner, (space = this.lru.space()));
    }
    space.set(key, { value, at: this.now() }, ENTRY_OVERHEAD_BYTES + 2 * key.length + bytes);
    for (const tag of others) {
      let owners = this.dependents.get(tag);
      if (owners === undefined) this.dependents.set(tag, (owners = new Set()));
      owners.add(owner);
    }
  }

  /** The data of `tag` changed: its values, and those depending on it, are dropped. */
  invalidate(tag: string): void {
    this.sequence++;
    this.changedAt.set(tag, this.sequence);
    if (this.changedAt.size > CHANGED_TAGS_KEPT) this.forgetChanges();
    this.drop(tag);
    const owners = this.dependents.get(tag);
    if (owners === undefined) return;
    this.dependents.delete(tag);
    for (const owner of owners) this.drop(owner);
  }

  /** Anything may have changed (a flush, a lost connection): every value and every mark taken so far go. */
  invalidateAll(): void {
    this.sequence++;
    this.forgetChanges();
    for (const space of this.spaces.values()) space.clear();
    this.spaces.clear();
    this.dependents.clear();
  }

  /** Whether the source of invalidations is connected: while it is not, nothing is kept. */
  setConnected(connected: boolean): void {
    this.invalidateAll();
    this.connected = connected;
  }

  /** Forgets the tags whose values the LRU evicted; amortized: the next sweep waits for twice as many tags. */
  private sweep(): void {
    for (const [tag, space] of this.spaces) if (space.size === 0) this.spaces.delete(tag);
    this.sweepAt = Math.max(SWEEP_MIN_SPACES, 2 * this.spaces.size);
  }

  private forgetChanges(): void {
    this.changedAt.clear();
    this.floor = this.sequence;
  }

  private drop(tag: string): void {
    const space = this.spaces.get(tag);
    if (space === undefined) return;
    space.clear();
    this.spaces.delete(tag);
  }
}
