// The active API keys, held in-process: a request costs no PostgreSQL query, and keys keep
// working while PostgreSQL is away (recommendations are served from Redis alone).
import { keyPrefix, matchesHash, type Scope } from './api-key.ts';
import type { Rate } from './rate.ts';

export interface ActiveKey {
  prefix: string;
  /** hex SHA-256 of the whole key. */
  hash: string;
  name: string;
  /** The tenant the key serves; an admin key's several, or ['*']. */
  tenants: string[];
  scope: Scope;
  /** Origins a browser may use the key from; empty = a server-side key, any origin. */
  origins: string[];
  /** null: the configured default. */
  rate: Rate | null;
}

// An unknown prefix re-reads the keys at most this often: a key created a moment ago works at
// once, and a stream of made-up keys costs at most one query per second.
const MISS_RELOAD_MS = 1000;

export class KeyRing {
  private keys: Map<string, ActiveKey> | null = null;
  private loadedAt = -Infinity;
  private loading: Promise<ReadonlyMap<string, ActiveKey>> | null = null;

  constructor(
    private readonly load: () => Promise<ActiveKey[]>,
    private readonly ttlMs: number,
    private readonly onStale: (err: Error) => void,
  ) {}

  /** The active keys by prefix, re-read when older than the TTL (one read shared by concurrent callers). */
  active(): Promise<ReadonlyMap<string, ActiveKey>> {
    return Promise.resolve(this.fresh() ?? this.reload());
  }

  /** The keys read within the TTL, or null when they are due for a re-read: lets hot paths skip a promise. */
  fresh(): ReadonlyMap<string, ActiveKey> | null {
    return this.keys !== null && performance.now() - this.loadedAt < this.ttlMs ? this.keys : null;
  }

  /** The active key `presented` is, or null; the hash is compared in constant time. */
  async find(presented: string): Promise<ActiveKey | null> {
    const prefix = keyPrefix(presented);
    if (prefix === null) return null;
    let key = (await this.active()).get(prefix);
    if (key === undefined && performance.now() - this.loadedAt >= MISS_RELOAD_MS) key = (await this.reload()).get(prefix);
    return key !== undefined && matchesHash(presented, key.hash) ? key : null;
  }

  private reload(): Promise<ReadonlyMap<string, ActiveKey>> {
    this.loading ??= this.load()
      .then(
        (rows) => this.settle(new Map(rows.map((k) => [k.prefix, k]))),
        (err: Error) => {
          // Never read yet: fail closed. Read before: keep the last keys until the next try.
          if (this.keys === null) throw err;
          this.onStale(err);
          return this.settle(this.keys);
        },
      )
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  private settle(keys: Map<string, ActiveKey>): ReadonlyMap<string, ActiveKey> {
    this.keys = keys;
    this.loadedAt = performance.now();
    return keys;
  }
}
