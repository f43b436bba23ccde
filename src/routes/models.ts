// GET /v1/models/current: the tenant's live model version as its build described it (when it
// was built, on how many events, which model) and what buy-again and for-you learned from the
// shop's data (src/model/describe.ts). About no user.
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { describeBuyAgain, describeForYou } from '../model/describe.ts';

const META_FIELDS = ['built_at', 'model', 'neighbours', 'half_life_days', 'events', 'users', 'items', 'layout'] as const;

export async function modelRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'tenants'>): Promise<void> {
  app.get(
    '/v1/models/current',
    {
      config: { access: 'read', personal: 'none' },
      schema: {
        summary: 'The live model version: when and from what it was built, and the weights buy-again and for-you learned',
        tags: ['models'],
        response: {
          200: {
            type: 'object',
            properties: {
              version: { type: 'integer' },
              ...Object.fromEntries(META_FIELDS.map((f) => [f, {}])),
              buy_again: { type: ['object', 'null'], additionalProperties: true, description: 'null: this version has no buy-again model (too little repeat history, or BUILD_REPEAT=false)' },
              for_you: { type: ['object', 'null'], additionalProperties: true, description: 'null: no blend was fit; for-you then serves its generators in order' },
            },
          },
        },
      },
    },
    async (request) => {
      const { version, meta } = await deps.tenants.get(request.tenant).store.meta();
      return {
        version,
        ...Object.fromEntries(META_FIELDS.map((f) => [f, meta[f] ?? null])),
        buy_again: meta.repeat ? describeBuyAgain(meta.repeat) : null,
        for_you: meta.blend ? describeForYou(meta.blend) : null,
      };
    },
  );
}
