import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { withDeadline } from '../deadline.ts';

async function check(probe: () => Promise<unknown>): Promise<string> {
  try { await withDeadline(probe(), 1000); return 'ok'; } catch (err) { return (err as Error).message; }
}

export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // Liveness: the process answers. Orchestrators restart it when this fails.
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  // Readiness: both backing services answer, so traffic may be routed here.
  app.get('/ready', { schema: { hide: true } }, async (_request, reply) => {
    const [redis, postgres] = await Promise.all([check(() => deps.redis.ping()), check(() => deps.pool.query('SELECT 1'))]);
    const ready = redis === 'ok' && postgres === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', redis, postgres });
  });
}
