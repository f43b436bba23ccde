// A bounded in-process cache with least-recently-used eviction, approximated by "second
// chance" (CLOCK, as PostgreSQL's buffer cache does): a hit only sets a flag, so the hot path
// is one Map lookup, with no reordering. An entry not read since it came goes first, so a
// burst of one-off reads cannot flush the hot entries. Bounded by entry count and by
// (estimated) bytes.
// Used for model values, which never change once their version is live: entries need no
// expiry, only the bounds evict. Keys live in spaces (one per model version and kind of
// value), so lookups use the bare item id, never a concatenated key. A space can be dropped
// whole (a user's results when their data changed, src/lib/invalidated-cache.ts).

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
  bytes: number;
}

interface Entry {
  key: string;
  value: unknown;
  bytes: number;
  used: boolean;
  /** The space's map; null once the entry is gone (the clock hand then skips it). */
  home: Map<string, Entry> | null;
}

/** One namespace of the cache, e.g. the catalog fields of model version 7. */
export class CacheSpace<V> {
  private readonly map = new Map<string, Entry>();

  constructor(private readonly cache: LruCache) {}

  get(key: string): V | undefined {
    const entry = this.map.get(key);
    this.cache.counted(entry !== undefined);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.value as V;
  }

  /** Stores a value with its estimated size; a value larger than the whole budget is not kept. */
  set(key: string, value: V, bytes: number): void {
    this.cache.store(this.map, key, value, bytes);
  }

  get size(): number {
    return this.map.size;
  }

  /** Drops every entry of the space at once (their budget is freed now, not when the clock hand passes). */
  clear(): void {
    for (const entry of this.map.values()) this.cache.forget(entry);
  }
}

export class LruCache {
  // Entries in insertion order; `head` is the clock hand.
  private queue: Entry[] = [];
  private head = 0;
  private entries = 0;
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  space<V>(): CacheSpace<V> {
    return new CacheSpace<V>(this);
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, evictions: this.evictions, entries: this.entries, bytes: this.bytes };
  }

  /** @internal hit/miss accounting of a space. */
  counted(hit: boolean): void {
    if (hit) this.hits++;
    else this.misses++;
  }

  /** @internal */
  store(home: Map<string, Entry>, key: string, value: unknown, bytes: number): void {
    const old = home.get(key);
    if (bytes > this.maxBytes || this.maxEntries === 0) {
      if (old !== undefined) this.forget(old);
      return;
    }
    if (old !== undefined) {
      // Updated in place (two requests missed the same key at once): the queue holds no duplicates.
      this.bytes += bytes - old.bytes;
      old.value = value;
      old.bytes = bytes;
      old.used = true;
    } else {
      const entry: Entry = { key, value, bytes, used: false, home };
      home.set(key, entry);
      this.queue.push(entry);
      this.entries++;
      this.bytes += bytes;
    }
    while (this.entries > this.maxEntries || this.bytes > this.maxBytes) this.evictOne();
  }

  /** @internal */
  forget(entry: Entry): void {
    entry.home!.delete(entry.key);
    entry.home = null;
    this.entries--;
    this.bytes -= entry.bytes;
  }

  /** Advances the clock hand: a used entry gets a second chance (moves to the back), an unused one goes. */
  private evictOne(): void {
    for (;;) {
      const entry = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (entry.home === null) continue;
      if (entry.used) {
        entry.used = false;
        this.queue.push(entry);
        continue;
      }
      this.forget(entry);
      this.evictions++;
      return;
    }
  }
}
