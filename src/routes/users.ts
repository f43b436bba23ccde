// /v1/users/{id}: a user's privacy controls (write scope): opting out of personalisation, and
// erasure, each of the customer the id belongs to (docs/identity.md). The work, in PostgreSQL and
// Redis, is in src/privacy/users.ts.
import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { HttpError } from '../http/errors.ts';
import { idSchema } from '../ids.ts';
import { eraseUser, setOptOut } from '../privacy/users.ts';

type IdParams = { Params: { id: string } };
const params = {
  type: 'object',
  required: ['id'],
  properties: { id: { ...idSchema, description: 'User id, as in events (URL-encoded)' } },
} as const;
const config = { access: 'write', personal: { user: (request) => (request.params as { id: string }).id } } as const satisfies FastifyContextConfig;

export async function userRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post<IdParams & { Body: { personalization_opt_out: boolean } }>(
    '/v1/users/:id/preferences',
    {
      config,
      schema: {
        summary: 'Opt a user out of personalisation, or back in',
        description:
          'Opted out, the user gets only non-personal blocks (their history is not read) and their events shape no model from the next build on. Their events are still stored (e.g. for experiment reports).',
        tags: ['users'],
        params,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['personalization_opt_out'],
          properties: { personalization_opt_out: { type: 'boolean' } },
        },
        response: {
          200: { type: 'object', properties: { user: { type: 'string' }, personalization_opt_out: { type: 'boolean' } } },
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const optOut = request.body.personalization_opt_out;
      if (!(await setOptOut(deps.pool, deps.redis, deps.tenants.get(request.tenant), id, optOut))) throw new HttpError(409, 'user_erased', `user "${id}" was erased`, 'id');
      return { user: id, personalization_opt_out: optOut };
    },
  );

  app.delete<IdParams>(
    '/v1/users/:id',
    {
      config,
      schema: {
        summary: 'Erase a user: events, exposures and Redis keys, at once; from the model at the next build',
        description:
          'A tombstone (the id and the time) is kept, so events that arrive later for this id are dropped. Every id linked to the same customer is erased with it (docs/identity.md). Idempotent.',
        tags: ['users'],
        params,
        response: {
          200: {
            type: 'object',
            properties: {
              user: { type: 'string' },
              deleted_at: { type: 'string', format: 'date-time', description: 'When the user was first erased' },
              events_deleted: { type: 'integer' },
              exposures_deleted: { type: 'integer' },
              redis_keys_deleted: { type: 'integer' },
              linked: { type: 'array', items: { type: 'string' }, description: 'The other ids of the same customer, erased with it (docs/identity.md)' },
            },
          },
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const erased = await eraseUser(deps.pool, deps.redis, deps.tenants.get(request.tenant), id);
      return {
        user: id,
        deleted_at: erased.deletedAt.toISOString(),
        events_deleted: erased.events,
        exposures_deleted: erased.exposures,
        redis_keys_deleted: erased.redisKeys,
        linked: erased.linked,
      };
    },
  );
}
