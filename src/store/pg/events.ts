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
 * Inserts a batch in one statement (all or nothing). Events whose idempotency_key is already
 * stored are skipped; the rows actually inserted are returned so callers react only to those.
 * Run it inside writeAsUsers (src/store/user-locks.ts), after dropping erased users' events.
 */
export async function insertEvents(tx: Tx, tenant: string, events: NewEvent[]): Promise<StoredEvent[]> {
  const { rows } = await tx.query<{ user_id: string; item_id: string; type: EventType; occurred_at: Date }>(
    `INSERT INTO events (tenant_id, user_id, item_id, type, quantity, price, occurred_at, request_id, idempotency_key)
     SELECT $9, * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::numeric[], $6::timestamptz[], $7::text[], $8::text[])
     ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
     RETURNING user_id, item_id, type, occurred_at`,
    [
      events.map((e) => e.userId), events.map((e) => e.itemId), events.map((e) => e.type),
      events.map((e) => e.quantity), events.map((e) => e.price), events.map((e) => e.occurredAt),
      events.map((e) => e.requestId), events.map((e) => e.idempotencyKey), tenant,
    ],
  );
  return rows.map((r) => ({ user: r.user_id, item: r.item_id, type: r.type, occurredAt: r.occurred_at }));
}
