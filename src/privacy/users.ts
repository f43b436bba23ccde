// A user's privacy controls across both stores: the personalisation opt-out and erasure.
// PostgreSQL is the truth; Redis holds the flags the API reads with the user's history
// (src/privacy/flags.ts). `t` is the user's tenant: its id and its Redis keys.
import type pg from 'pg';
import { eraseAsOwner } from '../store/pg/user-locks.ts';
import { eraseRows, upsertOptOut, type ErasedRows } from '../store/pg/users.ts';
import { deleteMatching, type RedisClient } from '../store/redis/client.ts';
import type { Keys } from '../store/redis/keys.ts';

export interface TenantScope {
  id: string;
  keys: Keys;
}

/**
 * Records the choice in PostgreSQL, the truth, then in Redis; both writes are idempotent, so a
 * caller that saw Redis fail simply retries. false: the user was erased (nothing changed).
 */
export async function setOptOut(pool: pg.Pool, redis: RedisClient, t: TenantScope, user: string, optOut: boolean): Promise<boolean> {
  if (!(await upsertOptOut(pool, t.id, user, optOut))) return false;
  if (optOut) await redis.set(t.keys.optOut(user), '1');
  else await redis.del(t.keys.optOut(user));
  return true;
}

export interface Erasure extends ErasedRows {
  redisKeys: number;
}

/**
 * Erases a user: their events and exposures go, and a tombstone (users.deleted_at, the id and
 * nothing else) stays, so that no writer stores anything of theirs again and no build uses the
 * id. PostgreSQL first, holding the user's lock (src/store/pg/user-locks.ts); then, in Redis, the
 * tombstone before the keys go, so a writer that comes later writes nothing
 * (src/store/redis/user-writes.ts). Idempotent.
 */
export async function eraseUser(pool: pg.Pool, redis: RedisClient, t: TenantScope, user: string): Promise<Erasure> {
  const erased = await eraseAsOwner(pool, t.id, user, (tx) => eraseRows(tx, t.id, user));
  // One transaction: a user's keys share their hash tag, hence one Redis Cluster slot. Their
  // mails' keys are found by SCAN (erasure is rare; the mail ids are not known).
  const replies = await redis
    .multi()
    .set(t.keys.erased(user), '1')
    .unlink(...t.keys.userKeys(user))
    .exec();
  const unlinked = replies?.[1]?.[1];
  if (typeof unlinked !== 'number') throw replies?.find(([err]) => err)?.[0] ?? new Error('erasure: Redis transaction failed');
  const redisKeys = unlinked + (await deleteMatching(redis, t.keys.userMailPattern(user)));
  return { ...erased, redisKeys };
}
