// A user's privacy state in both stores: the personalisation opt-out and erasure. PostgreSQL is
// the truth; Redis holds the flags the API reads with the user's history (src/store/user-flags.ts).
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Keys } from './keys.ts';
import { deleteMatching } from './redis.ts';
import { eraseAsOwner, type Tx } from './user-locks.ts';

/**
 * Records the choice in PostgreSQL, the truth, then in Redis; both writes are idempotent, so a
 * caller that saw Redis fail simply retries. false: the user was erased (nothing changed).
 */
export async function setOptOut(pool: pg.Pool, redis: Redis, keys: Keys, user: string, optOut: boolean): Promise<boolean> {
  const { rowCount } = await pool.query(
    `INSERT INTO users (id, personalization_opt_out) VALUES ($1, $2)
     ON CONFLICT (id) DO UPDATE SET personalization_opt_out = EXCLUDED.personalization_opt_out WHERE users.deleted_at IS NULL`,
    [user, optOut],
  );
  if (rowCount === 0) return false;
  if (optOut) await redis.set(keys.optOut(user), '1');
  else await redis.del(keys.optOut(user));
  return true;
}

export interface Erasure {
  deletedAt: Date;
  events: number;
  exposures: number;
  redisKeys: number;
}

/**
 * Erases a user: their events and exposures go, and a tombstone (users.deleted_at, the id and
 * nothing else) stays, so that no writer stores anything of theirs again and no build uses the
 * id. PostgreSQL first, holding the user's lock (src/store/user-locks.ts); then, in Redis, the
 * tombstone before the keys go, so a writer that comes later writes nothing
 * (src/store/user-writes.ts). Idempotent.
 */
export async function eraseUser(pool: pg.Pool, redis: Redis, keys: Keys, user: string): Promise<Erasure> {
  const erased = await eraseAsOwner(pool, user, (tx) => eraseRows(tx, user));
  // One transaction: a user's keys share their hash tag, hence one Redis Cluster slot. Their
  // mails' keys are found by SCAN (erasure is rare; the mail ids are not known).
  const replies = await redis.multi().set(keys.erased(user), '1').unlink(...keys.userKeys(user)).exec();
  const unlinked = replies?.[1]?.[1];
  if (typeof unlinked !== 'number') throw replies?.find(([err]) => err)?.[0] ?? new Error('erasure: Redis transaction failed');
  const redisKeys = unlinked + await deleteMatching(redis, keys.userMailPattern(user));
  return { ...erased, redisKeys };
}

/** The PostgreSQL half of an erasure: tombstone, events, exposures. Run it holding the user's lock (eraseAsOwner). */
export async function eraseRows(tx: Tx, user: string): Promise<Omit<Erasure, 'redisKeys'>> {
  const { rows } = await tx.query<{ deleted_at: Date; events: number; exposures: number }>(
    `WITH tombstone AS (
       INSERT INTO users (id, deleted_at) VALUES ($1, now())
       ON CONFLICT (id) DO UPDATE SET deleted_at = COALESCE(users.deleted_at, now())
       RETURNING deleted_at
     ), gone_events AS (DELETE FROM events WHERE user_id = $1 RETURNING 1),
     gone_exposures AS (DELETE FROM exposures WHERE user_id = $1 RETURNING 1)
     SELECT (SELECT deleted_at FROM tombstone), (SELECT count(*) FROM gone_events)::int AS events,
       (SELECT count(*) FROM gone_exposures)::int AS exposures`,
    [user],
  );
  return { deletedAt: rows[0].deleted_at, events: rows[0].events, exposures: rows[0].exposures };
}
