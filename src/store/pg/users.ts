// The users table: opt-outs and erasure tombstones (the truth of a user's privacy state).
import type pg from 'pg';
import { lockProfiles, type Tx } from './user-locks.ts';

/**
 * Records the choice for every one of `users` (one customer's ids: src/privacy/users.ts); false
 * when one was erased (nothing changed).
 */
export async function upsertOptOut(db: Tx | Pick<pg.Pool, 'query'>, tenant: string, users: string | readonly string[], optOut: boolean): Promise<boolean> {
  const ids = [...new Set([users].flat())];
  const { rowCount } = await db.query(
    `INSERT INTO users (tenant_id, id, personalization_opt_out) SELECT $1, u, $3 FROM unnest($2::text[]) u
     WHERE NOT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = ANY($2::text[]) AND deleted_at IS NOT NULL)
     ON CONFLICT (tenant_id, id) DO UPDATE SET personalization_opt_out = EXCLUDED.personalization_opt_out WHERE users.deleted_at IS NULL`,
    [tenant, ids, optOut],
  );
  return rowCount === ids.length;
}

export interface ErasedRows {
  /** When the user was first erased. */
  deletedAt: Date;
  events: number;
  exposures: number;
}

/**
 * The PostgreSQL half of an erasure of `users` (one id, or every id of one customer): their
 * tombstones, events, exposures, lifecycle profiles and segment moves, and the links between
 * them (identity_links). Run it holding their locks (eraseAsOwner). `deletedAt` is the first
 * user's.
 */
export async function eraseRows(tx: Tx, tenant: string, users: string | readonly string[]): Promise<ErasedRows> {
  await lockProfiles(tx, tenant, 'shared');
  const ids = [...new Set([users].flat())];
  const { rows } = await tx.query<{ deleted_at: Date; events: number; exposures: number }>(
    `WITH tombstone AS (
       INSERT INTO users (tenant_id, id, deleted_at) SELECT $2, u, now() FROM unnest($1::text[]) u
       ON CONFLICT (tenant_id, id) DO UPDATE SET deleted_at = COALESCE(users.deleted_at, now())
       RETURNING id, deleted_at
     ), gone_events AS (DELETE FROM events WHERE tenant_id = $2 AND user_id = ANY($1::text[]) RETURNING idempotency_key),
     -- A key names the event (it may carry an order number): it goes with it (010_events_partitioned.sql).
     gone_keys AS (DELETE FROM event_idempotency k WHERE k.tenant_id = $2 AND k.idempotency_key IN (SELECT idempotency_key FROM gone_events) RETURNING 1),
     gone_exposures AS (DELETE FROM exposures WHERE tenant_id = $2 AND user_id = ANY($1::text[]) RETURNING 1),
     gone_profile AS (DELETE FROM lifecycle_profiles WHERE tenant_id = $2 AND user_id = ANY($1::text[]) RETURNING 1),
     gone_moves AS (DELETE FROM lifecycle_segment_changes WHERE tenant_id = $2 AND user_id = ANY($1::text[]) RETURNING 1),
     -- Which ids were one customer is theirs too: the tombstones alone stay (050_identity_links.sql).
     gone_links AS (DELETE FROM identity_links WHERE tenant_id = $2 AND (alias_id = ANY($1::text[]) OR customer_id = ANY($1::text[])) RETURNING 1)
     SELECT (SELECT deleted_at FROM tombstone WHERE id = $3), (SELECT count(*) FROM gone_events)::int AS events,
       (SELECT count(*) FROM gone_exposures)::int AS exposures`,
    [ids, tenant, ids[0]],
  );
  return { deletedAt: rows[0].deleted_at, events: rows[0].events, exposures: rows[0].exposures };
}
