import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { withDeadline } from '../deadline.ts';

const PUBLIC = { access: 'public', personal: 'none' } as const;

async function check(probe: () => Promise<string>): Promise<string> {
  try { return await withDeadline(probe(), 1000); } catch (err) { return (err as Error).message; }
}

export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // Liveness: the process answers. Orchestrators restart it when this fails.
  app.get('/health', { config: PUBLIC, schema: { hide: true } }, async () => ({ status: 'ok' }));

  // Readiness: both backing services answer and a model is live, so traffic may be routed here.
  // Without a model (never built, or Redis lost its data) every block would be a 503 or degraded.
  app.get('/ready', { config: PUBLIC, schema: { hide: true } }, async (_request, reply) => {
    const [redis, postgres] = await Promise.all([
      check(async () => ((await deps.redis.get(deps.keys.current)) === null ? 'no model is live: run the build' : 'ok')),
      check(async () => { await deps.pool.query('SELECT 1'); return 'ok'; }),
    ]);
    const ready = redis === 'ok' && postgres === 'ok';
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ status: ready ? 'ready' : 'not_ready', redis, postgres });
  });
}
