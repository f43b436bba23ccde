import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseRate } from './auth/rate.ts';
import { AUTH_MODES, DEFAULT_AUTH_SETTINGS as AUTH, type AuthSettings } from './auth/settings.ts';
import { checkTemplate } from './recommend/links.ts';
import { SECONDS_PER_DAY } from './lib/time.ts';

// Every setting of the service, read once from the environment with defaults
// for local use. Nothing else in the code reads process.env.

export type EventType = 'view' | 'cart' | 'purchase' | 'click';
export const EVENT_TYPES: readonly EventType[] = ['view', 'cart', 'purchase', 'click'];

export interface Config {
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of every Redis key; lets several deployments (or test runs) share one Redis. */
  redisPrefix: string;
  host: string;
  port: number;
  logLevel: string;
  /** Length cap of a user's recently-viewed list in Redis. */
  recentlyViewedCap: number;
  /** How long per-user keys (recently viewed, purchased) live without activity. */
  userKeyTtlSeconds: number;
  /** A user's purchase days (item, day) kept in Redis, newest first: what buy-again scores. */
  purchaseOccasionsCap: number;
  /** Weight of each event type in the co-occurrence matrix. 0 leaves the type out. */
  eventWeights: Record<EventType, number>;
  build: {
    similarity: Similarity;
    model: ModelKind;
    neighbours: number;
    minSupport: number;
    halfLifeDays: number;
    easeLambda: number;
    easeMaxItems: number;
    /** Old model versions stay readable this long after a swap, for in-flight requests. */
    oldVersionTtlSeconds: number;
    /** worker_threads for the co-occurrence; 1 computes in the main thread. */
    workers: number;
    /** Items kept per popularity list (overall, per category, per brand). */
    listLength: number;
    /** Pause between publish batches, to spare a Redis that is serving traffic. */
    publishPauseMs: number;
    /** Redis commands per publish round trip. */
    publishBatch: number;
    /** The build lock lapses this long after its holder stops refreshing it (a crashed build). */
    lockTtlMs: number;
    /** Fit buy-again (item repeat statistics, its parameters) and the for-you blend's weights. */
    repeat: boolean;
    /** Validation users buy-again's parameters and the for-you blend are fit on at most (an even sample): their cost grows with them. */
    fitUsers: number;
    /** Compute customer lifecycle profiles, segments and predictions (docs/lifecycle.md). */
    lifecycle: boolean;
  };
  serving: ServingConfig;
  experiments: ExperimentsConfig;
  email: EmailConfig;
  links: LinksConfig;
  /** API keys, rate limits and user tokens (src/auth). */
  auth: AuthSettings;
  eventStore: EventStoreConfig;
  scale: ScaleConfig;
}

/** Past one machine (docs/scaling.md): a Redis Cluster instead of one Redis, several API processes. */
export interface ScaleConfig {
  /** Seeds of a Redis Cluster (REDIS_CLUSTER_NODES, host:port,...); when set, REDIS_URL is not used. */
  redisClusterNodes: { host: string; port: number }[];
  /** HTTP processes sharing the port (node:cluster); 1: the process serves alone. */
  apiWorkers: number;
}

/** PostgreSQL that grows: event partitions, their retention, and what the build reads (docs/scaling.md). */
export interface EventStoreConfig {
  /** Whole months of events kept before the current one (older month partitions are dropped); 0 keeps all. */
  eventsRetentionMonths: number;
  /** Months after the current one whose partitions are created ahead. */
  partitionsAheadMonths: number;
  /** Where the build reads events (a replica); its writes (model versions) go to DATABASE_URL. */
  buildDatabaseUrl: string;
  /** The build reads only events this many days before the newest one; 0: no limit (but see BUILD_HALF_LIFE_DAYS). */
  buildWindowDays: number;
}

/** Settings of the recommendations API (src/routes/recommendations.ts, src/store/redis/rec-store.ts). */
export interface ExperimentsConfig {
  /** A click or purchase this long after a user's first exposure is credited to their variant. */
  attributionWindowDays: number;
  /** Experiment definitions are read from PostgreSQL at most this often per process (not per request). */
  definitionCacheMs: number;
  exposures: {
    flushIntervalMs: number;
    batchRows: number;
    /** Past this many unwritten exposures new ones are dropped (and counted): memory stays bounded. */
    maxBufferedRows: number;
  };
  /** A block fetched with exposure=impression (the widget's) is exposed if seen within this time: its exposure waits this long in Redis. */
  deferredExposureTtlSeconds: number;
}

/** Email blocks and click links (src/email, src/routes/email.ts, src/routes/clicks.ts). */
export interface EmailConfig {
  /** HMAC secret of click tokens and signed email URLs (>= 32 characters); empty: a random one per process. */
  signingSecret: string;
  /** Click links stay valid at least this long (they live in mailboxes). */
  linkTtlSeconds: number;
  /** Base URL clients reach this API at: click links are built on it. */
  publicBaseUrl: string;
  /** The HTML block template, loaded at start-up. */
  templatePath: string;
  /** How long a mail_id remembers what its blocks showed (and the items of each block). */
  mailTtlSeconds: number;
  /** Cache-Control max-age of email blocks. */
  maxAgeSeconds: number;
  /** Past this, a block is served from the popular fallback instead (ESPs give up after about 2 s). */
  timeBudgetMs: number;
}

/**
 * Product page and image of an item the catalog has no (web) URL for, in every answer: `{id}` =
 * the URL-encoded id; '' = none. The defaults of every tenant; a tenant's own (npm run tenants)
 * wins (src/recommend/links.ts).
 */
export interface LinksConfig {
  productUrlTemplate: string;
  imageUrlTemplate: string;
  /** A tenant's templates are read from PostgreSQL at most this often per process. */
  refreshMs: number;
}

export interface ServingConfig {
  /** How long the live model version is trusted in-process before Redis is asked again. */
  modelRefreshMs: number;
  /** Bounds of the in-process cache of versioned model values (immutable per version). */
  cacheMaxEntries: number;
  cacheMaxBytes: number;
  /** Bounds of the in-process cache of serialized non-personal blocks (per model version); 0 entries = off. */
  blockCacheMaxEntries: number;
  blockCacheMaxBytes: number;
  /**
   * Personal results kept in-process until Redis reports a change to the user's keys (client
   * tracking, src/store/redis/key-tracking.ts), at most this long (it bounds how stale buy-again's
   * "due in" days may be); 0 = off.
   */
  userCacheSeconds: number;
  userCacheMaxEntries: number;
  userCacheMaxBytes: number;
  /**
   * History items (recent views, then purchases) that seed a user's recommendations. The cost
   * of a personalised answer grows with it: each seed adds a neighbour list to the sum.
   */
  maxSeeds: number;
  /** Origins allowed to call the API from a browser (widgets); empty = CORS off. */
  corsOrigins: string[];
  /** Cache-Control max-age of per-user answers (private) and of item/popular answers (public). */
  privateMaxAgeSeconds: number;
  publicMaxAgeSeconds: number;
  /** A block not computed within this is answered degraded (non-personal, from the in-process cache) or 503. */
  deadlineMs: number;
  /** Each Redis command of the API fails after this (jobs' commands have no limit). */
  redisCommandTimeoutMs: number;
  /** The API's PostgreSQL connects and statements fail after these (jobs' have no limit). */
  pgConnectTimeoutMs: number;
  pgStatementTimeoutMs: number;
}

export type Similarity = 'cooccurrence' | 'cosine' | 'jaccard' | 'lift' | 'llr';
export const SIMILARITIES: readonly Similarity[] = ['cooccurrence', 'cosine', 'jaccard', 'lift', 'llr'];
export type ModelKind = 'itemknn' | 'ease';

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function num(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got "${raw}"`);
  return value;
}

/** "host:port,host:port" → seeds; an IPv6 host in brackets ([::1]:7000). */
export function parseClusterNodes(raw: string | undefined): ScaleConfig['redisClusterNodes'] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((seed) => {
      const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(seed);
      const port = Number(m?.[2]);
      if (!m || !(port > 0 && port < 65536)) throw new Error(`REDIS_CLUSTER_NODES: bad seed "${seed}" (expected host:port)`);
      return { host: m[1].replace(/^\[|\]$/g, ''), port };
    });
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new Error(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/** Parses "view=1,cart=2,purchase=4" into weights; unnamed types keep their default. */
export function parseEventWeights(raw: string | undefined, defaults: Record<EventType, number>): Record<EventType, number> {
  const weights = { ...defaults };
  if (!raw) return weights;
  for (const part of raw.split(',')) {
    const [type, value] = part.split('=').map((s) => s.trim());
    const weight = Number(value);
    if (!(EVENT_TYPES as readonly string[]).includes(type) || !Number.isFinite(weight) || weight < 0) {
      throw new Error(`EVENT_WEIGHTS: bad entry "${part}" (expected type=weight with type in ${EVENT_TYPES.join('|')})`);
    }
    weights[type as EventType] = weight;
  }
  return weights;
}

export const DEFAULT_EMAIL_TEMPLATE = fileURLToPath(new URL('../templates/email-block.html', import.meta.url));

export const DEFAULT_EVENT_WEIGHTS: Record<EventType, number> = { purchase: 1, cart: 0.5, view: 0.25, click: 0 };

export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = env.DATABASE_URL || 'postgres://recs:recs@127.0.0.1:5432/recs';
  return {
    databaseUrl,
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    redisPrefix: env.REDIS_PREFIX ?? 'recs:',
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 8080),
    logLevel: env.LOG_LEVEL || 'info',
    recentlyViewedCap: int(env, 'RECENTLY_VIEWED_CAP', 50, 1),
    userKeyTtlSeconds: int(env, 'USER_KEY_TTL_SECONDS', 180 * SECONDS_PER_DAY, 1),
    purchaseOccasionsCap: int(env, 'PURCHASE_OCCASIONS_CAP', 1000, 1),
    eventWeights: parseEventWeights(env.EVENT_WEIGHTS, DEFAULT_EVENT_WEIGHTS),
    build: {
      similarity: oneOf(env, 'BUILD_SIMILARITY', SIMILARITIES, 'llr'),
      model: oneOf(env, 'BUILD_MODEL', ['itemknn', 'ease'] as const, 'itemknn'),
      neighbours: int(env, 'BUILD_NEIGHBOURS', 50, 1),
      minSupport: int(env, 'BUILD_MIN_SUPPORT', 1, 1),
      halfLifeDays: num(env, 'BUILD_HALF_LIFE_DAYS', 0),
      easeLambda: num(env, 'BUILD_EASE_LAMBDA', 500),
      easeMaxItems: int(env, 'BUILD_EASE_MAX_ITEMS', 3000, 1),
      oldVersionTtlSeconds: int(env, 'BUILD_OLD_VERSION_TTL_SECONDS', 3600, 1),
      workers: int(env, 'BUILD_WORKERS', Math.max(1, availableParallelism()), 1),
      listLength: int(env, 'BUILD_LIST_LENGTH', 500, 1),
      publishPauseMs: int(env, 'BUILD_PUBLISH_PAUSE_MS', 0),
      publishBatch: int(env, 'BUILD_PUBLISH_BATCH', 2000, 1),
      lockTtlMs: int(env, 'BUILD_LOCK_TTL_MS', 15_000, 100),
      repeat: env.BUILD_REPEAT !== 'false',
      fitUsers: int(env, 'BUILD_FIT_USERS', 600, 1),
      lifecycle: env.BUILD_LIFECYCLE !== 'false',
    },
    experiments: {
      attributionWindowDays: num(env, 'EXPERIMENT_ATTRIBUTION_WINDOW_DAYS', 7),
      definitionCacheMs: int(env, 'EXPERIMENT_CACHE_MS', 5000),
      exposures: {
        flushIntervalMs: int(env, 'EXPOSURE_FLUSH_MS', 1000, 1),
        batchRows: int(env, 'EXPOSURE_BATCH_ROWS', 500, 1),
        maxBufferedRows: int(env, 'EXPOSURE_MAX_BUFFERED_ROWS', 50_000, 1),
      },
      deferredExposureTtlSeconds: int(env, 'EXPOSURE_DEFERRED_TTL_SECONDS', 3600, 1),
    },
    serving: {
      modelRefreshMs: int(env, 'SERVING_MODEL_REFRESH_MS', 1000, 1),
      cacheMaxEntries: int(env, 'SERVING_CACHE_MAX_ENTRIES', 200_000),
      cacheMaxBytes: int(env, 'SERVING_CACHE_MAX_MB', 128) * 1024 * 1024,
      blockCacheMaxEntries: int(env, 'SERVING_BLOCK_CACHE_MAX_ENTRIES', 50_000),
      blockCacheMaxBytes: int(env, 'SERVING_BLOCK_CACHE_MAX_MB', 64) * 1024 * 1024,
      userCacheSeconds: int(env, 'SERVING_USER_CACHE_SECONDS', 60),
      userCacheMaxEntries: int(env, 'SERVING_USER_CACHE_MAX_ENTRIES', 100_000),
      userCacheMaxBytes: int(env, 'SERVING_USER_CACHE_MAX_MB', 64) * 1024 * 1024,
      maxSeeds: int(env, 'SERVING_MAX_SEEDS', 20, 1),
      corsOrigins: (env.CORS_ORIGINS ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
      privateMaxAgeSeconds: int(env, 'SERVING_PRIVATE_MAX_AGE_SECONDS', 10),
      publicMaxAgeSeconds: int(env, 'SERVING_PUBLIC_MAX_AGE_SECONDS', 300),
      deadlineMs: int(env, 'SERVING_DEADLINE_MS', 150, 1),
      redisCommandTimeoutMs: int(env, 'REDIS_COMMAND_TIMEOUT_MS', 50, 1),
      pgConnectTimeoutMs: int(env, 'PG_CONNECT_TIMEOUT_MS', 1000, 1),
      pgStatementTimeoutMs: int(env, 'PG_STATEMENT_TIMEOUT_MS', 5000, 1),
    },
    email: {
      signingSecret: env.EMAIL_SIGNING_SECRET ?? '',
      linkTtlSeconds: int(env, 'EMAIL_LINK_TTL_SECONDS', 90 * SECONDS_PER_DAY, 1),
      publicBaseUrl: (env.PUBLIC_BASE_URL || `http://${env.HOST || '127.0.0.1'}:${int(env, 'PORT', 8080)}`).replace(/\/+$/, ''),
      templatePath: env.EMAIL_TEMPLATE || DEFAULT_EMAIL_TEMPLATE,
      mailTtlSeconds: int(env, 'EMAIL_MAIL_TTL_SECONDS', 2 * SECONDS_PER_DAY, 1),
      maxAgeSeconds: int(env, 'EMAIL_MAX_AGE_SECONDS', 3600),
      timeBudgetMs: int(env, 'EMAIL_TIME_BUDGET_MS', 1000, 1),
    },
    links: {
      productUrlTemplate: checkTemplate(env.PRODUCT_URL_TEMPLATE ?? '', 'PRODUCT_URL_TEMPLATE'),
      imageUrlTemplate: checkTemplate(env.IMAGE_URL_TEMPLATE ?? '', 'IMAGE_URL_TEMPLATE'),
      refreshMs: int(env, 'LINK_TEMPLATES_REFRESH_MS', 30_000),
    },
    auth: {
      mode: oneOf(env, 'AUTH_MODE', AUTH_MODES, AUTH.mode),
      keyCacheMs: int(env, 'AUTH_KEY_CACHE_MS', AUTH.keyCacheMs),
      defaultRate: env.AUTH_RATE_LIMIT ? parseRate(env.AUTH_RATE_LIMIT) : AUTH.defaultRate,
      userTokenSecret: env.USER_TOKEN_SECRET ?? AUTH.userTokenSecret,
      metricsRequireKey: env.METRICS_REQUIRE_KEY === 'true',
    },
    eventStore: {
      eventsRetentionMonths: int(env, 'EVENTS_RETENTION_MONTHS', 0),
      partitionsAheadMonths: int(env, 'EVENTS_PARTITIONS_AHEAD_MONTHS', 3),
      buildDatabaseUrl: env.BUILD_DATABASE_URL || databaseUrl,
      buildWindowDays: num(env, 'BUILD_WINDOW_DAYS', 0),
    },
    scale: {
      redisClusterNodes: parseClusterNodes(env.REDIS_CLUSTER_NODES),
      apiWorkers: int(env, 'API_WORKERS', 1, 1),
    },
  };
}

/** The demo storefront (src/demo, npm run demo): a shop per tenant on an origin of its own. */
export interface StorefrontConfig {
  host: string;
  port: number;
  /** The API as the storefront and its visitors' browsers reach it. */
  apiUrl: string;
  /** STOREFRONT_SHOPS: [{ tenant, name, serverKey, browserKey }], made by scripts/demo.sh. */
  shops: { tenant: string; name: string; serverKey: string; browserKey: string }[];
  userTokenSecret: string;
}

export function loadStorefrontConfig(env: Env = process.env): StorefrontConfig {
  const api = loadConfig(env);
  const shops = JSON.parse(env.STOREFRONT_SHOPS || '[]') as unknown;
  const valid = Array.isArray(shops) && shops.every((s: Record<string, unknown>) => ['tenant', 'name', 'serverKey', 'browserKey'].every((k) => typeof s?.[k] === 'string'));
  if (!valid) throw new Error('STOREFRONT_SHOPS must be a JSON list of { tenant, name, serverKey, browserKey }');
  if (api.auth.userTokenSecret === '') throw new Error("the storefront signs its visitors' user tokens: set USER_TOKEN_SECRET (the API's)");
  return {
    host: env.STOREFRONT_HOST || '127.0.0.1',
    port: int(env, 'STOREFRONT_PORT', 8081),
    apiUrl: (env.STOREFRONT_API_URL || api.email.publicBaseUrl).replace(/\/+$/, ''),
    shops: shops as StorefrontConfig['shops'],
    userTokenSecret: api.auth.userTokenSecret,
  };
}
