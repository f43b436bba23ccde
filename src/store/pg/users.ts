// The users table: opt-outs and erasure tombstones (the truth of a user's privacy state).
import type pg from 'pg';
import { lockProfiles, type Tx } from './user-locks.ts';

/** Records the choice; false when the user was erased (nothing changed). */
export async function upsertOptOut(db: Pick<pg.Pool, 'query'>, tenant: string, user: string, optOut: boolean): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO users (tenant_id, id, personalization_opt_out) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, id) DO UPDATE SET personalization_opt_out = EXCLUDED.personalization_opt_out WHERE users.deleted_at IS NULL`,
    [tenant, user, optOut],
  );
  return rowCount === 1;
}

export interface ErasedRows {
  /** When the user was first erased. */
  deletedAt: Date;
  events: number;
  exposures: number;
}

/**
 * The PostgreSQL half of an erasure: tombstone, events, exposures, lifecycle profile and segment
 * moves. Run it holding the user's lock (eraseAsOwner).
 */
export async function eraseRows(tx: Tx, tenant: string, user: string): Promise<ErasedRows> {
  await lockProfiles(tx, tenant, 'shared');
  const { rows } = await tx.query<{ deleted_at: Date; events: number; exposures: number }>(
    `WITH tombstone AS (
       INSERT INTO users (tenant_id, id, deleted_at) VALUES ($2, $1, now())
       ON CONFLICT (tenant_id, id) DO UPDATE SET deleted_at = COALESCE(users.deleted_at, now())
       RETURNING deleted_at
     ), gone_events AS (DELETE FROM events WHERE tenant_id = $2 AND user_id = $1 RETURNING idempotency_key),
     -- A key names the event (it may carry an order number): it goes with it (010_events_partitioned.sql).
     gone_keys AS (DELETE FROM event_idempotency k WHERE k.tenant_id = $2 AND k.idempotency_key IN (SELECT idempotency_key FROM gone_events) RETURNING 1),
     gone_exposures AS (DELETE FROM exposures WHERE tenant_id = $2 AND user_id = $1 RETURNING 1),
     gone_profile AS (DELETE FROM lifecycle_profiles WHERE tenant_id = $2 AND user_id = $1 RETURNING 1),
     gone_moves AS (DELETE FROM lifecycle_segment_changes WHERE tenant_id = $2 AND user_id = $1 RETURNING 1)
     SELECT (SELECT deleted_at FROM tombstone), (SELECT count(*) FROM gone_events)::int AS events,
       (SELECT count(*) FROM gone_exposures)::int AS exposures`,
    [user, tenant],
  );
  return { deletedAt: rows[0].deleted_at, events: rows[0].events, exposures: rows[0].exposures };
}
