import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { EVENT_TYPES, type EventType } from '../config.ts';
import { isUnavailable } from '../http/errors.ts';
import { idSchema as id } from '../ids.ts';
import { insertEvents, type NewEvent } from '../store/pg/events.ts';
import { erasedAmong, writeAsUsers } from '../store/pg/user-locks.ts';
import { userKeyLimits, writeUsers } from '../store/redis/user-writes.ts';

export const MAX_EVENTS_PER_BATCH = 1000;

const eventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['user_id', 'item_id', 'type'],
  properties: {
    user_id: id,
    item_id: id,
    type: { type: 'string', enum: EVENT_TYPES },
    occurred_at: { type: 'string', format: 'date-time', description: 'RFC 3339 date-time (seconds 00-59); defaults to the time of receipt' },
    quantity: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
    price: { type: 'number', minimum: 0, maximum: 1e9 },
    request_id: { ...id, description: 'request_id of the recommendation response that led to this event (attribution)' },
    idempotency_key: { ...id, description: 'a retried event with the same key is stored once' },
  },
} as const;

interface EventBody {
  user_id: string;
  item_id: string;
  type: EventType;
  occurred_at?: string;
  quantity: number;
  price?: number;
  request_id?: string;
  idempotency_key?: string;
}

export async function eventRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post<{ Body: { events: EventBody[] } }>(
    '/v1/events',
    {
      // Writes many users' data, and says which of them were erased (dropped).
      config: { access: 'write', personal: 'many-users' },
      schema: {
        summary: 'Record a batch of view/cart/purchase/click events',
        tags: ['events'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['events'],
          properties: { events: { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_BATCH, items: eventSchema } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              accepted: { type: 'integer' },
              duplicates: { type: 'integer' },
              dropped: { type: 'integer', description: 'Events of erased users (DELETE /v1/users/{id}): not stored' },
            },
          },
        },
      },
    },
    async (request) => {
      const now = new Date();
      const users = request.body.events.map((e) => e.user_id);
      // An erased user stays erased: their late-arriving events are dropped, not refused, so a
      // batch from a CDP that has not caught up yet still stores everyone else's. The check and the
      // insert hold the users' locks, so an erasure running meanwhile cannot be passed.
      const t = deps.tenants.get(request.tenant);
      const { stored, kept } = await writeAsUsers(deps.pool, t.id, users, async (tx) => {
        const erased = await erasedAmong(tx, t.id, users);
        const events: NewEvent[] = request.body.events
          .filter((e) => !erased.has(e.user_id))
          .map((e) => ({
            userId: e.user_id,
            itemId: e.item_id,
            type: e.type,
            quantity: e.quantity,
            price: e.price ?? null,
            occurredAt: e.occurred_at ? new Date(e.occurred_at) : now,
            requestId: e.request_id ?? null,
            idempotencyKey: e.idempotency_key ?? null,
          }));
        return { stored: await insertEvents(tx, t.id, events), kept: events.length };
      });
      // PostgreSQL first: it is the truth. Redis mirrors only what was newly stored (its script
      // refuses users erased meanwhile); with Redis away the events are stored all the same (a
      // retry would only find duplicates), and the next build rewrites the users' lists.
      await writeUsers(deps.redis, t.keys, userKeyLimits(deps.config), stored).catch((err: Error) => {
        if (!isUnavailable(err)) throw err;
        deps.outages.redis.down(err, request.log);
      });
      return { accepted: stored.length, duplicates: kept - stored.length, dropped: request.body.events.length - kept };
    },
  );
}
