// Opt-outs and erasures live in PostgreSQL, their truth, and as flags in Redis, where the API
// reads them with the user's history (no PostgreSQL on the hot path). A Redis that lost its data
// lost the flags too: until they are copied back, the history reads report the flags missing
// (the marker, src/store/redis/user-flags.ts) and no personal answer is served. The copy is
// started by the first read that finds them missing (FlagSync) and by every build.
import type pg from 'pg';
import type { RedisClient } from '../store/redis/client.ts';
import type { Keys } from '../store/redis/keys.ts';
import { allLinks, firstVariants } from '../store/pg/identities.ts';
import { copyUserFlags, type UserFlag } from '../store/redis/user-flags.ts';

export interface FlagCounts {
  optedOut: number;
  erased: number;
  /** Linked ids' markers (docs/identity.md). */
  linked: number;
}

/**
 * Copies every opt-out flag, erasure tombstone, linked id's marker and kept variant from
 * PostgreSQL into Redis, then sets the marker.
 */
export async function syncUserFlags(pool: Pick<pg.Pool, 'query'>, redis: RedisClient, tenant: string, keys: Keys): Promise<FlagCounts> {
  const rows = await copyUserFlags(redis, keys, async (): Promise<UserFlag[]> => {
    const [flags, links, variants] = await Promise.all([
      pool
        .query<{ id: string; erased: boolean }>('SELECT id, deleted_at IS NOT NULL AS erased FROM users WHERE tenant_id = $1 AND (personalization_opt_out OR deleted_at IS NOT NULL)', [tenant])
        .then((r) => r.rows),
      allLinks(pool, tenant),
      firstVariants(pool, tenant),
    ]);
    return [...flags, ...links.map((l) => ({ id: l.alias, customer: l.customer })), ...variants.map((v) => ({ id: v.customer, experiment: v.experiment, variant: v.variant }))];
  });
  const count = (is: (row: UserFlag) => boolean) => rows.filter(is).length;
  return { optedOut: count((r) => 'erased' in r && !r.erased), erased: count((r) => 'erased' in r && r.erased), linked: count((r) => 'customer' in r) };
}

/**
 * The API's copy: at most one at a time, and not more often than `minIntervalMs` after a failure
 * (PostgreSQL away), since every personal read asks for it while the flags are missing.
 */
export class FlagSync {
  private running: Promise<void> | null = null;
  private lastTry = -Infinity;

  constructor(
    private readonly sync: () => Promise<FlagCounts>,
    private readonly log: { done(counts: FlagCounts): void; failed(err: Error): void },
    private readonly minIntervalMs = 5000,
  ) {}

  /** Starts a copy unless one runs or one just failed; never throws. */
  request(): Promise<void> {
    if (this.running !== null) return this.running;
    if (performance.now() - this.lastTry < this.minIntervalMs) return Promise.resolve();
    this.lastTry = performance.now();
    this.running = this.sync()
      .then(
        (counts) => {
          this.lastTry = -Infinity;
          this.log.done(counts);
        },
        (err: Error) => this.log.failed(err),
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}
