import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from './config.ts';
import { errorHandler } from './errors.ts';
import { loggerOptions } from './log.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { redisKeys, type Keys } from './store/keys.ts';

export interface AppDeps {
  config: Config;
  pool: pg.Pool;
  redis: Redis;
  keys: Keys;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Builds the HTTP app from injected services (no globals), so tests run it against real ones. */
export async function buildApp(config: Config, services: { pool: pg.Pool; redis: Redis }, options: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger === false ? false : loggerOptions(config.logLevel),
    bodyLimit: 2 * 1024 * 1024,
    // Honour a caller's request id (from a proxy or the shop) so logs line up end to end.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  const deps: AppDeps = { config, ...services, keys: redisKeys(config.redisPrefix) };
  app.setErrorHandler(errorHandler);
  app.addHook('onSend', async (request, reply) => { reply.header('x-request-id', request.id); });
  // The OpenAPI document is generated from the route schemas: it cannot drift from the code.
  await app.register(swagger, {
    openapi: {
      info: { title: 'recs', version: '1', description: 'Recommendations API: recently viewed, same brand, collaborative, popular.' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, deps);
  await app.register(eventRoutes, deps);
  return app;
}
