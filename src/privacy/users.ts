// A user's privacy controls across both stores: the personalisation opt-out and erasure.
// PostgreSQL is the truth; Redis holds the flags the API reads with the user's history
// (src/privacy/flags.ts). `t` is the user's tenant: its id and its Redis keys. Both apply to the
// customer the id belongs to, with every id linked to them (docs/identity.md): a choice made
// through any of a customer's ids is the customer's.
import type pg from 'pg';
import { asPerson, personIds } from '../store/pg/identities.ts';
import { eraseRows, upsertOptOut, type ErasedRows } from '../store/pg/users.ts';
import { deleteMatching, type RedisClient } from '../store/redis/client.ts';
import type { Keys } from '../store/redis/keys.ts';

export interface TenantScope {
  id: string;
  keys: Keys;
}

/**
 * Records the choice for every id of the customer in PostgreSQL, the truth, then in Redis; both
 * writes are idempotent, so a caller that saw Redis fail simply retries. The ids are held locked
 * meanwhile, so a link being made cannot leave one of them out (src/privacy/identities.ts).
 * false: the user was erased (nothing changed).
 */
export async function setOptOut(pool: pg.Pool, redis: RedisClient, t: TenantScope, user: string, optOut: boolean): Promise<boolean> {
  const ids = await asPerson(pool, t.id, user, async (tx, person) => ((await upsertOptOut(tx, t.id, personIds(person), optOut)) ? personIds(person) : null));
  if (ids === null) return false;
  // One command per id: on a Redis Cluster each id's flag is in its own slot.
  await Promise.all(ids.map((id) => (optOut ? redis.set(t.keys.optOut(id), '1') : redis.del(t.keys.optOut(id)))));
  return true;
}

export interface Erasure extends ErasedRows {
  redisKeys: number;
  /** The ids erased with the one asked for: the customer's and every id linked to them. */
  linked: string[];
}

/**
 * Erases a user and every id linked to the same customer: their events and exposures go, and a
 * tombstone per id (users.deleted_at, the id and nothing else) stays, so that no writer stores
 * anything of theirs again and no build uses them. PostgreSQL first, holding every id's lock
 * (src/store/pg/user-locks.ts); then, in Redis, each id's tombstone before its keys go, so a writer
 * that comes later writes nothing (src/store/redis/user-writes.ts), to a linked id or to the
 * customer it would have written to instead. Idempotent.
 */
export async function eraseUser(pool: pg.Pool, redis: RedisClient, t: TenantScope, user: string): Promise<Erasure> {
  const { erased, ids } = await asPerson(pool, t.id, user, async (tx, person) => {
    // The id asked for first: its tombstone's time is the answer's.
    const ids = [user, ...personIds(person).filter((id) => id !== user)];
    return { erased: await eraseRows(tx, t.id, ids), ids };
  });
  let redisKeys = 0;
  for (const id of ids) {
    // One transaction per id: an id's keys share its hash tag, hence one Redis Cluster slot.
    // Its mails' keys and deferred exposures are found by SCAN (erasure is rare; the mail and
    // request ids are not known).
    const replies = await redis
      .multi()
      .set(t.keys.erased(id), '1')
      .unlink(...t.keys.userKeys(id))
      .exec();
    const unlinked = replies?.[1]?.[1];
    if (typeof unlinked !== 'number') throw replies?.find(([err]) => err)?.[0] ?? new Error('erasure: Redis transaction failed');
    redisKeys += unlinked + (await deleteMatching(redis, t.keys.userMailPattern(id))) + (await deleteMatching(redis, t.keys.userDeferredPattern(id)));
  }
  return { ...erased, redisKeys, linked: ids.slice(1) };
}
