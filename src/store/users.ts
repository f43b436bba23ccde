// A user's privacy state in both stores: the personalisation opt-out (PostgreSQL, mirrored to a
// Redis flag the API reads with the user's history, no PostgreSQL on the hot path) and erasure.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Keys } from './keys.ts';
import { deleteMatching } from './redis.ts';

const FLAG_BATCH = 1000;

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
 * nothing else) stays so that late-arriving events for the id are dropped and no build uses
 * it; then every Redis key of theirs goes. One SQL statement, so all or nothing; idempotent.
 */
export async function eraseUser(pool: pg.Pool, redis: Redis, keys: Keys, user: string): Promise<Erasure> {
  const { rows } = await pool.query<{ deleted_at: Date; events: number; exposures: number }>(
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
  // One command: a user's keys share the {user} hash tag, hence one Redis Cluster slot. Their
  // mails' keys are found by SCAN (erasure is rare; the mail ids are not known).
  const redisKeys = await redis.unlink(...keys.userKeys(user)) + await deleteMatching(redis, keys.userMailPattern(user));
  return { deletedAt: rows[0].deleted_at, events: rows[0].events, exposures: rows[0].exposures, redisKeys };
}

/** Those of `users` who were erased: the events API drops their events. */
export async function erasedUsers(pool: pg.Pool, users: readonly string[]): Promise<Set<string>> {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM users WHERE id = ANY($1::text[]) AND deleted_at IS NOT NULL', [[...new Set(users)]]);
  return new Set(rows.map((r) => r.id));
}

/**
 * Sets the Redis flag of every opted-out user. The build calls it: a Redis that lost its data
 * gets the users' histories back from the build, and must get their opt-outs back with them.
 */
export async function syncOptOutFlags(pool: pg.Pool, redis: Redis, keys: Keys): Promise<number> {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM users WHERE personalization_opt_out AND deleted_at IS NULL');
  for (let i = 0; i < rows.length; i += FLAG_BATCH) {
    // ioredis writes the commands back to back: one round trip per batch.
    await Promise.all(rows.slice(i, i + FLAG_BATCH).map(({ id }) => redis.set(keys.optOut(id), '1')));
  }
  return rows.length;
}
