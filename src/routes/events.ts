import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { EVENT_TYPES, type EventType } from '../config.ts';
import { isUnavailable } from '../errors.ts';
import { idSchema as id } from '../ids.ts';
import { insertEvents, type NewEvent } from '../store/events.ts';
import { recordActivity } from '../store/user-activity.ts';
import { erasedUsers } from '../store/users.ts';

export const MAX_EVENTS_PER_BATCH = 1000;

const eventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['user_id', 'item_id', 'type'],
  properties: {
    user_id: id,
    item_id: id,
    type: { type: 'string', enum: EVENT_TYPES },
    occurred_at: { type: 'string', format: 'date-time', description: 'defaults to the time of receipt' },
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
  app.post<{ Body: { events: EventBody[] } }>('/v1/events', {
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
            accepted: { type: 'integer' }, duplicates: { type: 'integer' },
            dropped: { type: 'integer', description: 'Events of erased users (DELETE /v1/users/{id}): not stored' },
          },
        },
      },
    },
  }, async (request) => {
    const now = new Date();
    // An erased user stays erased: their late-arriving events are dropped, not refused, so a
    // batch from a CDP that has not caught up yet still stores everyone else's.
    const erased = await erasedUsers(deps.pool, request.body.events.map((e) => e.user_id));
    const events: NewEvent[] = request.body.events.filter((e) => !erased.has(e.user_id)).map((e) => ({
      userId: e.user_id, itemId: e.item_id, type: e.type, quantity: e.quantity, price: e.price ?? null,
      occurredAt: e.occurred_at ? new Date(e.occurred_at) : now,
      requestId: e.request_id ?? null, idempotencyKey: e.idempotency_key ?? null,
    }));
    // PostgreSQL first: it is the truth. Redis mirrors only what was newly stored; with Redis
    // away the events are stored all the same (a retry would only find duplicates), and the next
    // build rewrites the users' lists from PostgreSQL.
    const stored = await insertEvents(deps.pool, events);
    await recordActivity(deps.redis, deps.keys, { recentlyViewedCap: deps.config.recentlyViewedCap, ttlSeconds: deps.config.userKeyTtlSeconds }, stored)
      .catch((err: Error) => {
        if (!isUnavailable(err)) throw err;
        request.log.warn({ err }, 'Redis unavailable: events stored, recently-viewed and bought lists not updated until the next build');
      });
    return { accepted: stored.length, duplicates: events.length - stored.length, dropped: request.body.events.length - events.length };
  });
}
