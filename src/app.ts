import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type pg from 'pg';
import { authPlugin } from './auth/plugin.ts';
import type { Config } from './config.ts';
import type { AppDeps } from './deps.ts';
import { setUpEmail } from './email/setup.ts';
import { ExperimentCache } from './experiments/cache.ts';
import { ExposureWriter } from './experiments/exposure-writer.ts';
import { Exposures } from './experiments/exposures.ts';
import { AJV_OPTIONS } from './http/ajv.ts';
import { BlockCache } from './http/block-cache.ts';
import { errorHandler, isUnavailable, notFoundHandler } from './http/errors.ts';
import { strictQueryNumbers } from './http/strict-query.ts';
import { InvalidatedCache } from './lib/invalidated-cache.ts';
import { LruCache } from './lib/lru-cache.ts';
import { loggerOptions } from './log.ts';
import { Metrics } from './metrics.ts';
import { OutageLog, type Outages } from './outage.ts';
import { FlagSync, syncUserFlags } from './privacy/flags.ts';
import type { RecResult } from './recommend/recommend.ts';
import type { ModelView } from './recommend/types.ts';
import { clickRoutes } from './routes/clicks.ts';
import { emailRoutes } from './routes/email.ts';
import { eventRoutes } from './routes/events.ts';
import { experimentRoutes } from './routes/experiments.ts';
import { healthRoutes } from './routes/health.ts';
import { identityRoutes } from './routes/identities.ts';
import { lifecycleRoutes } from './routes/lifecycle.ts';
import { modelRoutes } from './routes/models.ts';
import { recommendationRoutes } from './routes/recommendations.ts';
import { userRoutes } from './routes/users.ts';
import { widgetEventRoutes } from './routes/widget-events.ts';
import { widgetRoutes } from './routes/widget.ts';
import { activeApiKeys } from './store/pg/api-keys.ts';
import { findExperiment, insertExposures } from './store/pg/experiments.ts';
import { linkOf } from './store/pg/identities.ts';
import { PopularFallback } from './store/pg/popular-fallback.ts';
import { listTenants, tenantLinkTemplates } from './store/pg/tenants.ts';
import type { RedisClient } from './store/redis/client.ts';
import { invalidating, trackKeys, type KeyTracking } from './store/redis/key-tracking.ts';
import { canonicalUser, experimentIdentity } from './store/redis/identities.ts';
import { redisExposureNotes } from './store/redis/exposures.ts';
import { redisKeys } from './store/redis/keys.ts';
import { MailMemory } from './store/redis/mail-memory.ts';
import { readProfileFacts } from './store/redis/profiles.ts';
import { consume } from './store/redis/rate-limit.ts';
import { RedisRecStore } from './store/redis/rec-store.ts';
import { DEFAULT_TENANT } from './tenant.ts';
import { Tenants } from './tenants.ts';

// The email blocks' best-seller fallback changes slowly; it is only read while the model is unusable.
const FALLBACK_REFRESH_MS = 5 * 60_000;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Builds the HTTP app from injected services (no globals), so tests run it against real ones. */
export async function buildApp(
  config: Config,
  services: { pool: pg.Pool; redis: RedisClient },
  options: { logger?: boolean; logStream?: { write(line: string): void } } = {},
): Promise<FastifyInstance> {
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
  const { pool, redis } = services;
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('preValidation', strictQueryNumbers);
  // Set before anything can refuse the request, so 401s and 429s carry it too. A callback
  // hook, not an async one: it runs on every request.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  // Widgets call from shop pages: only the configured origins may (none by default). Before auth,
  // so that a refusal (wrong origin, bad key, rate limit) reaches the page as itself, not as a CORS error.
  if (config.serving.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.serving.corsOrigins.includes('*') ? '*' : config.serving.corsOrigins,
      methods: ['GET', 'POST'],
      exposedHeaders: ['x-request-id'],
    });
  }
  // Next: its hooks guard every route, /metrics included, and decide each request's tenant.
  await app.register(authPlugin, {
    settings: config.auth,
    loadKeys: () => activeApiKeys(pool),
    // The counters live in Redis: while it is away, requests go unlimited rather than all refused.
    consume: (tenant, prefix, rate) =>
      consume(redis, tenants.get(tenant).keys.rateLimit(prefix), rate).catch((err: Error) => {
        if (!isUnavailable(err)) throw err;
        outages.redis.down(err);
        return null;
      }),
    // A browser key reads a linked id's data with its customer's token (docs/identity.md): Redis's
    // marker, or PostgreSQL's link while Redis cannot tell (the lifecycle profile reads PostgreSQL).
    customerOf: async (tenant, user) => (await canonicalUser(redis, tenants.get(tenant).keys, user).catch(() => null)) ?? (await linkOf(pool, tenant, user)) ?? user,
  });

  // One memory budget for every tenant's model values, and one for their serialized blocks.
  const modelCache = new LruCache(config.serving.cacheMaxEntries, config.serving.cacheMaxBytes);
  const blockCache = new LruCache(config.serving.blockCacheMaxEntries, config.serving.blockCacheMaxBytes);
  // Users' results, kept until Redis reports a change to their keys (one budget for every tenant).
  const { userCacheSeconds, userCacheMaxEntries, userCacheMaxBytes } = config.serving;
  const userCache = new LruCache(userCacheMaxEntries, userCacheMaxBytes);
  const userResults = new InvalidatedCache<RecResult>(userCache, userCacheSeconds * 1000);
  // Connected once the app is ready (a build that fails on its way leaves no connection behind);
  // tenants' stores are made after that, on first use.
  let tracking: KeyTracking | null = null;
  if (userCacheSeconds > 0 && userCacheMaxEntries > 0) {
    app.addHook('onReady', async () => {
      tracking = trackKeys(redis, invalidating(userResults));
    });
    app.addHook('onClose', async () => tracking?.close());
  }
  const linkDefaults = { product: config.links.productUrlTemplate, image: config.links.imageUrlTemplate };
  const tenants = new Tenants((id) => {
    const keys = redisKeys(config.redisPrefix, id);
    // Opt-outs and erasures lost with Redis data are copied back from PostgreSQL before any
    // personal answer is given (src/privacy/flags.ts): at start, and when a read finds them gone.
    const flags = new FlagSync(() => syncUserFlags(pool, redis, id, keys), {
      done: (counts) => app.log.info({ tenant: id, ...counts }, 'user flags (opt-outs, erasures) copied from PostgreSQL into Redis'),
      failed: (err) => app.log.warn({ tenant: id, err }, 'could not copy user flags into Redis: personal answers stay withheld'),
    });
    return {
      id,
      keys,
      flags,
      store: new RedisRecStore(redis, keys, modelCache, {
        ...config.serving,
        onFlagsMissing: () => void flags.request(),
        tracked: tracking === null ? undefined : { tracking, results: userResults },
      }),
      blocks: new BlockCache(blockCache),
      memory: new MailMemory(redis, keys, config.email.mailTtlSeconds),
      fallback: new PopularFallback(pool, id, FALLBACK_REFRESH_MS, (err) => app.log.warn({ tenant: id, err }, 'popular fallback not read from PostgreSQL')),
      links: tenantLinkTemplates(pool, id, linkDefaults, config.links.refreshMs, (err) => app.log.warn({ tenant: id, err }, 'link templates not read from PostgreSQL: using the last ones read')),
    };
  });
  app.addHook('onReady', async () => {
    for (const id of await listTenants(pool).catch(() => [DEFAULT_TENANT])) {
      const t = tenants.get(id);
      if ((await redis.exists(t.keys.flagsSynced).catch(() => 1)) === 0) await t.flags.request();
    }
  });
  const exposures = new Exposures(
    new ExposureWriter((rows) => insertExposures(pool, rows), {
      ...config.experiments.exposures,
      onError: (err, rows) => app.log.warn({ err, rows }, 'exposure write failed'),
    }),
    redisExposureNotes(redis, (tenant) => tenants.get(tenant).keys),
    config.experiments.deferredExposureTtlSeconds,
    (err, what) => app.log.warn({ err }, what),
  );
  // server.ts ends the pool after app.close(), so buffered exposures are flushed first.
  app.addHook('onClose', () => exposures.close());
  const metrics = new Metrics({
    models: () => Promise.all([...tenants.served()].map(async (t) => [t.id, await t.store.model().catch(() => null)] as [string, ModelView | null])),
    cacheStats: () => modelCache.stats(),
  });
  metrics.watchBlockCache(() => blockCache.stats());
  metrics.watchUserCache(() => userCache.stats());
  metrics.install(app, config.auth.metricsRequireKey);
  // Read per experiment every few seconds, never per request (the A/B harness and email blocks).
  // Audience-limited experiments decide entry on the user's lifecycle facts, read from Redis.
  const experiments = new ExperimentCache(
    (tenant, id) => findExperiment(pool, tenant, id),
    config.experiments.definitionCacheMs,
    (tenant, user) => readProfileFacts(redis, tenants.get(tenant).keys, user),
    // A customer's ids share one assignment (docs/identity.md).
    (tenant, experiment, user) => experimentIdentity(redis, tenants.get(tenant).keys, user, experiment),
  );
  const email = await setUpEmail(config, { metrics, exposures, experiments }, (message) => app.log.warn(message));
  const deps: AppDeps = { config, pool, redis, outages, tenants, metrics, experiments, exposures, email };

  // The OpenAPI document is generated from the route schemas: it cannot drift from the code.
  await app.register(swagger, {
    openapi: {
      info: { title: 'recs', version: '1', description: 'Recommendations API: recently viewed, same brand, collaborative, popular.' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, deps);
  await app.register(eventRoutes, deps);
  await app.register(recommendationRoutes, deps);
  await app.register(emailRoutes, deps);
  await app.register(clickRoutes, deps);
  await app.register(experimentRoutes, deps);
  await app.register(userRoutes, deps);
  await app.register(identityRoutes, deps);
  await app.register(lifecycleRoutes, deps);
  await app.register(widgetRoutes, deps);
  await app.register(widgetEventRoutes, deps);
  await app.register(modelRoutes, deps);
  return app;
}
