import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { authPlugin } from './auth/plugin.ts';
import type { Config } from './config.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { setUpEmail } from './email/setup.ts';
import { ExperimentCache } from './experiments/cache.ts';
import { ExposureWriter } from './experiments/exposure-writer.ts';
import { instantFormat } from './http/instant.ts';
import { strictQueryNumbers } from './http/strict-query.ts';
import { loggerOptions } from './log.ts';
import { Metrics } from './metrics.ts';
import { OutageLog, type Outages } from './outage.ts';
import { clickRoutes } from './routes/clicks.ts';
import { emailRoutes } from './routes/email.ts';
import { eventRoutes } from './routes/events.ts';
import { experimentRoutes } from './routes/experiments.ts';
import { healthRoutes } from './routes/health.ts';
import { recommendationRoutes } from './routes/recommendations.ts';
import { userRoutes } from './routes/users.ts';
import { widgetEventRoutes } from './routes/widget-events.ts';
import { widgetRoutes } from './routes/widget.ts';
import { findExperiment, insertExposures } from './store/experiments.ts';
import { redisKeys, type Keys } from './store/keys.ts';
import { RedisRecStore } from './store/rec-store.ts';
import { FlagSync, syncUserFlags } from './store/user-flags.ts';

export interface AppDeps {
  config: Config;
  pool: pg.Pool;
  redis: Redis;
  keys: Keys;
  outages: Outages;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Request validation: unknown fields are errors, defaults are applied, `?a=1&a=2` becomes an
 * array; the `instant` format for timestamps (src/http/instant.ts).
 */
export const AJV_OPTIONS = {
  customOptions: { removeAdditional: false, coerceTypes: 'array' as const, useDefaults: true, allErrors: false },
  plugins: [instantFormat],
};

/** Builds the HTTP app from injected services (no globals), so tests run it against real ones. */
export async function buildApp(config: Config, services: { pool: pg.Pool; redis: Redis }, options: { logger?: boolean; logStream?: { write(line: string): void } } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger === false ? false : { ...loggerOptions(config.logLevel), stream: options.logStream },
    bodyLimit: 2 * 1024 * 1024,
    // Click tokens (/v1/r/{token}) carry their signed target URL: longer than the default 100.
    routerOptions: { maxParamLength: 2048 },
    // Honour a caller's request id (from a proxy or the shop) so logs line up end to end.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: AJV_OPTIONS,
  });
  const outages: Outages = { redis: new OutageLog('Redis', () => app.log), postgres: new OutageLog('PostgreSQL', () => app.log) };
  app.decorate('outages', outages);
  // Named, not spread: a caller's services object may carry a config of its own (tests do).
  const deps: AppDeps = { config, pool: services.pool, redis: services.redis, keys: redisKeys(config.redisPrefix), outages };
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('preValidation', strictQueryNumbers);
  // Set before anything can refuse the request, so 401s and 429s carry it too. A callback
  // hook, not an async one: it runs on every request.
  app.addHook('onRequest', (request, reply, done) => { void reply.header('x-request-id', request.id); done(); });
  // Next: its hooks guard every route, /metrics included.
  await app.register(authPlugin, { ...deps, settings: config.auth, onRedisDown: (err) => outages.redis.down(err) });
  const exposures = new ExposureWriter((rows) => insertExposures(deps.pool, rows), {
    ...config.experiments.exposures,
    onError: (err, rows) => app.log.warn({ err, rows }, 'exposure write failed'),
  });
  // server.ts ends the pool after app.close(), so buffered exposures are flushed first.
  app.addHook('onClose', () => exposures.close());
  // Opt-outs and erasures lost with Redis data are copied back from PostgreSQL before any personal
  // answer is given (src/store/user-flags.ts): at start when missing, and when a read finds them gone.
  const flags = new FlagSync(() => syncUserFlags(deps.pool, deps.redis, deps.keys), {
    done: (counts) => app.log.info(counts, 'user flags (opt-outs, erasures) copied from PostgreSQL into Redis'),
    failed: (err) => app.log.warn({ err }, 'could not copy user flags into Redis: personal answers stay withheld'),
  });
  app.addHook('onReady', async () => {
    if ((await deps.redis.exists(deps.keys.flagsSynced).catch(() => 1)) === 0) await flags.request();
  });
  const store = new RedisRecStore(deps.redis, deps.keys, { ...config.serving, onFlagsMissing: () => void flags.request() });
  const metrics = new Metrics(store);
  metrics.install(app, config.auth.metricsRequireKey);
  // Widgets call from shop pages: only the configured origins may (none by default).
  if (config.serving.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.serving.corsOrigins.includes('*') ? '*' : config.serving.corsOrigins,
      methods: ['GET', 'POST'],
      exposedHeaders: ['x-request-id'],
    });
  }
  // The OpenAPI document is generated from the route schemas: it cannot drift from the code.
  await app.register(swagger, {
    openapi: {
      info: { title: 'recs', version: '1', description: 'Recommendations API: recently viewed, same brand, collaborative, popular.' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, deps);
  await app.register(eventRoutes, deps);
  // Read per experiment every few seconds, never per request (the A/B harness and email blocks).
  const experiments = new ExperimentCache((id) => findExperiment(deps.pool, id), config.experiments.definitionCacheMs);
  await app.register(recommendationRoutes, { ...deps, store, metrics, experiments, exposures });
  const email = await setUpEmail(config, { ...deps, store, metrics, exposures, experiments }, (message) => app.log.warn(message));
  await app.register(emailRoutes, { ...deps, ...email });
  await app.register(clickRoutes, { ...deps, secret: email.secret });
  await app.register(experimentRoutes, { ...deps, attributionWindowDays: config.experiments.attributionWindowDays });
  await app.register(userRoutes, deps);
  await app.register(widgetRoutes, deps);
  await app.register(widgetEventRoutes, deps);
  return app;
}
