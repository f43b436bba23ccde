// Serialized non-personal blocks (by item, popular), kept per model version and link templates:
// the same query on the same version always gets the same items, so a product page's block is
// computed and serialized once per build, not on every view. Bounded like the model cache (CLOCK LRU).
import type { LinkTemplates } from '../recommend/links.ts';
import type { Source } from '../recommend/types.ts';
import type { LruCache, CacheSpace, CacheStats } from '../lib/lru-cache.ts';

export interface SerializedBlock {
  /** The body from `"sources"` to its end, after the per-request `request_id` and header fields. */
  tail: string;
  sources: Source[];
  items: number;
}

const ENTRY_OVERHEAD_BYTES = 160;

export class BlockCache {
  private version: number | null = null;
  private links: LinkTemplates | null = null;
  private blocks: CacheSpace<SerializedBlock>;

  /** `cache` may be shared (one budget for every tenant's blocks). */
  constructor(private readonly cache: LruCache) {
    this.blocks = cache.space();
  }

  /**
   * The block of `key` under `version`, the live version as the caller read it, with `links`:
   * another version or templates than the cached ones start a new space (the old one ages out
   * of the LRU), a rollback too.
   */
  get(version: number, links: LinkTemplates, key: string): SerializedBlock | undefined {
    if (version !== this.version || links !== this.links) {
      this.version = version;
      this.links = links;
      this.blocks = this.cache.space();
    }
    return this.blocks.get(key);
  }

  /** Keeps a block computed on `version` with `links`; dropped when those are no longer the cached ones (a request that straddled a swap). */
  set(version: number, links: LinkTemplates, key: string, block: SerializedBlock): void {
    if (version === this.version && links === this.links) this.blocks.set(key, block, ENTRY_OVERHEAD_BYTES + 2 * (key.length + block.tail.length));
  }

  stats(): CacheStats {
    return this.cache.stats();
  }
}
