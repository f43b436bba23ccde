// POST /v1/widget/events: what the website widget (src/widget/recs-widget.js) saw and what was
// followed: an impression of a block (its items, each with its position) or a click on one item,
// attributed to the block's request_id. A browser key (read scope) may send them: they only say
// what the shop's own page showed. One that names the user its block was personal for needs that
// user's token, as reading the block did; without a user, the events belong to the block alone.
// Stored as events (type impression or click, source 'widget', position), once per request_id,
// page view (view_id: a non-personal block cached by a browser or a CDN is one request_id seen
// in many views) and item, holding the user's lock against a concurrent erasure like every writer of events.
// The first impression of (or click on) an experiment block fetched with exposure=impression is
// also its exposure, recorded for the user and variant it was served to (src/experiments/exposures.ts).
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { HttpError } from '../http/errors.ts';
import { idSchema as id } from '../ids.ts';
import { MAX_LIMIT } from '../recommend/request.ts';
import { insertEventsSql } from '../store/pg/events.ts';
import { erasedAmong, writeAsUsers } from '../store/pg/user-locks.ts';

const WIDGET_EVENT_TYPES = ['impression', 'click'] as const;

interface WidgetEvents {
  type: (typeof WIDGET_EVENT_TYPES)[number];
  request_id: string;
  /** The widget's page view of the block (one block served from a cache can be seen in many). */
  view_id?: string;
  user_id?: string;
  items: { item_id: string; position: number }[];
}

/**
 * The user id of an anonymous visitor's events: their block's own, so nothing joins one page
 * view to another and no person can be told from it.
 */
export const anonymousUser = (requestId: string): string => `anonymous:${requestId}`;

// A hash: request and item ids may hold any character, so a joined key could be ambiguous.
const onceKey = (type: string, requestId: string, view: string | undefined, item: string) =>
  `widget:${createHash('sha256')
    .update(JSON.stringify(view === undefined ? [type, requestId, item] : [type, requestId, view, item]))
    .digest('base64url')}`;

const INSERT = insertEventsSql(
  ['tenant_id', 'user_id', 'item_id', 'type', 'quantity', 'occurred_at', 'request_id', 'position', 'idempotency_key', 'source'],
  `SELECT $1::text, $2::text, t.item, $3::text, 1, $4::timestamptz, $5::text, t.position, t.key, 'widget' FROM unnest($6::text[], $7::int[], $8::text[]) AS t (item, position, key)`,
);

export async function widgetEventRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'pool' | 'exposures'>): Promise<void> {
  app.post<{ Body: WidgetEvents }>(
    '/v1/widget/events',
    {
      // A write for user_id that reveals nothing of theirs: the id's own token proves the page is
      // theirs, even once the id is linked to a customer (a page open during the login keeps
      // reporting what it showed; reading the customer's data still needs the customer's token).
      config: {
        access: 'read',
        personal: {
          owners: (request: FastifyRequest) => {
            const user = (request.body as WidgetEvents | undefined)?.user_id;
            return user === undefined ? [] : [{ user, token: request.userToken, field: 'user_token' }];
          },
        },
      },
      schema: {
        summary: 'Record what the website widget showed (impression) or what was followed (click)',
        description:
          "Once per request_id, view_id and item: a repeated event is counted in duplicates. A browser key needs the user_token of user_id; without user_id the events are anonymous. The first impression of (or click on) an experiment block fetched for user_id with exposure=impression records that block's exposure, in the variant that served it.",
        tags: ['widget'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'request_id', 'items'],
          properties: {
            type: { type: 'string', enum: WIDGET_EVENT_TYPES },
            request_id: { ...id, description: 'request_id of the block the widget showed' },
            view_id: { ...id, description: 'The page view that showed it (the widget makes one per render): a block served from a cache to several views counts in each' },
            user_id: { ...id, description: 'The user the block was personal for; absent for an anonymous visitor' },
            items: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_LIMIT,
              description: 'impression: the items shown; click: the one followed',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['item_id', 'position'],
                properties: { item_id: id, position: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: 'Place in the block, from 1' } },
              },
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              accepted: { type: 'integer' },
              duplicates: { type: 'integer', description: 'Already recorded for this request_id, view_id and item' },
              dropped: { type: 'integer', description: 'Events of an erased user: not stored' },
            },
          },
        },
      },
    },
    async (request) => {
      const { type, request_id: requestId, view_id: view, items } = request.body;
      if (type === 'click' && items.length > 1) throw new HttpError(400, 'invalid_request', 'a click is on one item', 'items');
      const user = request.body.user_id ?? anonymousUser(requestId);
      const { tenant } = request;
      const accepted = await writeAsUsers(deps.pool, tenant, [user], async (tx) => {
        if ((await erasedAmong(tx, tenant, [user])).size > 0) return null;
        const { rowCount } = await tx.query(INSERT, [
          tenant,
          user,
          type,
          new Date(),
          requestId,
          items.map((i) => i.item_id),
          items.map((i) => i.position),
          items.map((i) => onceKey(type, requestId, view, i.item_id)),
        ]);
        return rowCount ?? 0;
      });
      if (accepted === null) return { accepted: 0, duplicates: 0, dropped: items.length };
      // The block is seen: an experiment block fetched with exposure=impression is exposed now.
      if (request.body.user_id !== undefined) await deps.exposures.seen(tenant, user, requestId);
      return { accepted, duplicates: items.length - accepted, dropped: 0 };
    },
  );
}
