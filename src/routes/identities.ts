// /v1/identities: one customer across visits and devices (docs/identity.md). Linking an anonymous
// or device id to a customer id (the canonical one) and unlinking it; the work, across PostgreSQL
// and Redis, is in src/privacy/identities.ts, the rules in src/identity/links.ts. The API key
// decides the tenant, as everywhere: an id of another shop is simply another id.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Owner } from '../auth/access.ts';
import type { AppDeps } from '../deps.ts';
import { idSchema } from '../ids.ts';
import { linkIdentity, unlinkIdentity } from '../privacy/identities.ts';
import { userKeyLimits } from '../store/redis/user-writes.ts';

interface LinkBody {
  anonymous_id: string;
  customer_id: string;
  anonymous_token?: string;
  customer_token?: string;
}

const token = (whose: string) => ({ type: 'string', minLength: 1, maxLength: 512, description: `${whose}'s user token: needed with a browser (widget) key only` }) as const;
const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } } as const;

/** A browser key links only with both users' tokens: proof that the page holds both identities. */
function owners(request: FastifyRequest): Owner[] {
  const body = request.body as LinkBody;
  return [
    { user: body.anonymous_id, token: body.anonymous_token, field: 'anonymous_token' },
    { user: body.customer_id, token: body.customer_token, field: 'customer_token' },
  ];
}

export async function identityRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post<{ Body: LinkBody }>(
    '/v1/identities',
    {
      config: { access: 'write', personal: { owners } },
      schema: {
        summary: 'Link an anonymous or device id to a customer id (idempotent)',
        description:
          "The customer is the canonical id: the anonymous id's recently viewed, purchases and email memory merge into the customer's, later events of either id count for the customer, and reads by either id answer for the customer (docs/identity.md). A write key, or a browser key with both ids' user tokens.",
        tags: ['identities'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['anonymous_id', 'customer_id'],
          properties: {
            anonymous_id: { ...idSchema, description: 'The id linked: a cookie, device or other anonymous id, as in events' },
            customer_id: { ...idSchema, description: 'The canonical id it belongs to (a customer account)' },
            anonymous_token: token('anonymous_id'),
            customer_token: token('customer_id'),
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              anonymous_id: { type: 'string' },
              customer_id: { type: 'string' },
              created: { type: 'boolean', description: 'false: the link was there already' },
              merged: {
                type: ['object', 'null'],
                description: "What moved into the customer's Redis lists (null: nothing could, the id being erased or unlinked meanwhile)",
                properties: { viewed: { type: 'integer' }, purchases: { type: 'integer' }, mails: { type: 'integer' } },
              },
            },
          },
          400: errorSchema,
          409: errorSchema,
        },
      },
    },
    async (request) => {
      const { anonymous_id: anonymous, customer_id: customer } = request.body;
      const linked = await linkIdentity(deps.pool, deps.redis, deps.tenants.get(request.tenant), userKeyLimits(deps.config), anonymous, customer);
      return { anonymous_id: anonymous, customer_id: customer, ...linked };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/identities/:id',
    {
      config: { access: 'write', personal: { user: (request) => (request.params as { id: string }).id } },
      schema: {
        summary: 'Unlink an id from its customer (idempotent)',
        description:
          'Both ids go back to their own events: their Redis lists are rewritten from PostgreSQL. A customer with linked ids is refused (409): unlink each of its ids. What the customer kept (mail memory, experiment variants, an opt-out) stays theirs.',
        tags: ['identities'],
        params: { type: 'object', required: ['id'], properties: { id: { ...idSchema, description: 'The linked id (URL-encoded)' } } },
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'string' }, unlinked_from: { type: ['string', 'null'], description: 'The customer it was linked to; null: it was not linked' } },
          },
          409: errorSchema,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const customer = await unlinkIdentity(deps.pool, deps.redis, deps.tenants.get(request.tenant), userKeyLimits(deps.config), id);
      return { id, unlinked_from: customer };
    },
  );
}
