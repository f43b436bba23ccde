import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { withDeadline } from '../lib/deadline.ts';
import { redisKeys } from '../store/redis/keys.ts';
import { DEFAULT_TENANT, TENANT_ID } from '../tenant.ts';

const PUBLIC = { access: 'public', personal: 'none' } as const;

async function check(probe: () => Promise<string>): Promise<string> {
  try {
    return await withDeadline(probe(), 1000);
  } catch (err) {
    return (err as Error).message;
  }
}

export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // Liveness: the process answers. Orchestrators restart it when this fails.
  app.get('/health', { config: PUBLIC, schema: { hide: true } }, async () => ({ status: 'ok' }));

  // Readiness: both backing services answer and the default tenant's model is live (a model per
  // tenant: `?tenant=` asks about another), so traffic may be routed here. Without a model
  // (never built, or Redis lost its data) every block would be a 503 or degraded. A public
  // route: it reads the tenant's key name only, never makes (and keeps) services for any id asked.
  app.get<{ Querystring: { tenant: string } }>(
    '/ready',
    {
      config: PUBLIC,
      schema: { hide: true, querystring: { type: 'object', additionalProperties: false, properties: { tenant: { type: 'string', pattern: TENANT_ID.source, default: DEFAULT_TENANT } } } },
    },
    async (request, reply) => {
      const keys = redisKeys(deps.config.redisPrefix, request.query.tenant);
      const [redis, postgres] = await Promise.all([
        check(async () => ((await deps.redis.get(keys.current)) === null ? 'no model is live: run the build' : 'ok')),
        check(async () => {
          await deps.pool.query('SELECT 1');
          return 'ok';
        }),
      ]);
      const ready = redis === 'ok' && postgres === 'ok';
      return reply
        .code(ready ? 200 : 503)
        .header('cache-control', 'no-store')
        .send({ status: ready ? 'ready' : 'not_ready', redis, postgres });
    },
  );
}
