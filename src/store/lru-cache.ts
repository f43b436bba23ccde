// A bounded least-recently-used cache, bounded by entry count and by (estimated) bytes.
// Used for model values, which never change once their version is published, so an entry
// needs no expiry: only the bounds evict.

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
  bytes: number;
}

interface Entry<V> {
  value: V;
  bytes: number;
}

export class LruCache<V> {
  // A Map iterates in insertion order: re-inserting on a hit keeps the oldest entry first.
  private readonly map = new Map<string, Entry<V>>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(private readonly maxEntries: number, private readonly maxBytes: number) {}

  get(key: string): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, entry);
    return entry.value;
  }

  /** Stores a value with its estimated size; a value larger than the whole budget is not kept. */
  set(key: string, value: V, bytes: number): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.bytes -= old.bytes;
    }
    if (bytes > this.maxBytes || this.maxEntries === 0) return;
    this.map.set(key, { value, bytes });
    this.bytes += bytes;
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) this.evictOldest();
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, evictions: this.evictions, entries: this.map.size, bytes: this.bytes };
  }

  private evictOldest(): void {
    const [key, entry] = this.map.entries().next().value as [string, Entry<V>];
    this.map.delete(key);
    this.bytes -= entry.bytes;
    this.evictions++;
  }
}
