// Each tenant's own services: its Redis keys, model store, block cache, email memory, fallback
// list and flag copy, made on first use and kept (tenants are few and named by API keys, not by
// callers). Caches share one memory budget across tenants (the LruCaches are the app's).
import type { Refreshing } from './lib/refreshing.ts';
import type { FlagSync } from './privacy/flags.ts';
import type { LinkTemplates } from './recommend/links.ts';
import type { BlockCache } from './http/block-cache.ts';
import type { PopularFallback } from './store/pg/popular-fallback.ts';
import type { Keys } from './store/redis/keys.ts';
import type { MailMemory } from './store/redis/mail-memory.ts';
import type { RedisRecStore } from './store/redis/rec-store.ts';

export interface TenantServices {
  readonly id: string;
  readonly keys: Keys;
  readonly store: RedisRecStore;
  /** Serialized non-personal blocks of this tenant's live model version. */
  readonly blocks: BlockCache;
  readonly memory: MailMemory;
  /** Best sellers from PostgreSQL: the email blocks' last resort. */
  readonly fallback: PopularFallback;
  /** Copies this tenant's opt-outs and erasures back into Redis when they are missing. */
  readonly flags: FlagSync;
  /** Product page and image templates of items without catalog URLs (src/recommend/links.ts). */
  readonly links: Refreshing<LinkTemplates>;
}

export class Tenants {
  private readonly byId = new Map<string, TenantServices>();

  constructor(private readonly make: (id: string) => TenantServices) {}

  get(id: string): TenantServices {
    let services = this.byId.get(id);
    if (services === undefined) this.byId.set(id, (services = this.make(id)));
    return services;
  }

  /** Those served since start. */
  served(): Iterable<TenantServices> {
    return this.byId.values();
  }
}
