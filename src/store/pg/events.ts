import type { EventType } from '../../config.ts';
import type { Tx } from './user-locks.ts';

export interface NewEvent {
  userId: string;
  itemId: string;
  type: EventType;
  quantity: number;
  price: number | null;
  occurredAt: Date;
  requestId: string | null;
  idempotencyKey: string | null;
}

export interface StoredEvent {
  user: string;
  item: string;
  type: EventType;
  occurredAt: Date;
}

/**
 * One INSERT INTO events of the rows `select` yields (its columns are `columns`, in order, with
 * tenant_id and idempotency_key among them) that keeps idempotency keys unique across partitions
 * (010_events_partitioned.sql): each key is claimed in event_idempotency by the same statement,
 * and a row is inserted only when its key is new (or null). A key repeated within the batch
 * counts once, for its first row; a concurrent claim of the same key waits for the other
 * transaction and then skips, as ON CONFLICT DO NOTHING did. Every writer that sets
 * idempotency_key goes through this.
 */
export function insertEventsSql(columns: readonly string[], select: string, returning = ''): string {
  const list = columns.join(', ');
  return `WITH numbered AS (
      SELECT s.*, row_number() OVER () AS input_row FROM (${select}) AS s (${list})
    ), input AS (
      SELECT *, row_number() OVER (PARTITION BY tenant_id, idempotency_key ORDER BY input_row) AS nth FROM numbered
    ), claimed AS (
      INSERT INTO event_idempotency (tenant_id, idempotency_key)
      SELECT tenant_id, idempotency_key FROM input WHERE idempotency_key IS NOT NULL AND nth = 1 ORDER BY tenant_id, idempotency_key
      ON CONFLICT DO NOTHING
      RETURNING tenant_id, idempotency_key
    )
    INSERT INTO events (${list})
    SELECT ${columns.map((c) => `i.${c}`).join(', ')} FROM input i
    WHERE i.idempotency_key IS NULL
       OR (i.nth = 1 AND EXISTS (SELECT 1 FROM claimed c WHERE c.tenant_id = i.tenant_id AND c.idempotency_key = i.idempotency_key))
    ORDER BY i.input_row
    ${returning && `RETURNING ${returning}`}`;
}

const INSERT_EVENTS = insertEventsSql(
  ['tenant_id', 'user_id', 'item_id', 'type', 'quantity', 'price', 'occurred_at', 'request_id', 'idempotency_key'],
  'SELECT $9::text, * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::numeric[], $6::timestamptz[], $7::text[], $8::text[])',
  'user_id, item_id, type, occurred_at',
);

/**
 * Inserts a batch in one statement (all or nothing). Events whose idempotency_key is already
 * stored are skipped; the rows actually inserted are returned so callers react only to those.
 * Run it inside writeAsUsers (src/store/pg/user-locks.ts), after dropping erased users' events.
 */
export async function insertEvents(tx: Tx, tenant: string, events: NewEvent[]): Promise<StoredEvent[]> {
  const { rows } = await tx.query<{ user_id: string; item_id: string; type: EventType; occurred_at: Date }>(INSERT_EVENTS, [
    events.map((e) => e.userId),
    events.map((e) => e.itemId),
    events.map((e) => e.type),
    events.map((e) => e.quantity),
    events.map((e) => e.price),
    events.map((e) => e.occurredAt),
    events.map((e) => e.requestId),
    events.map((e) => e.idempotencyKey),
    tenant,
  ]);
  return rows.map((r) => ({ user: r.user_id, item: r.item_id, type: r.type, occurredAt: r.occurred_at }));
}
