// What the routes are built from: the clients and services the app is composed of
// (src/app.ts). Its own module, so that routes never import the app that registers them.
import type pg from 'pg';
import type { Config } from './config.ts';
import type { BlockService } from './email/blocks.ts';
import type { Template } from './email/template.ts';
import type { ExperimentCache } from './experiments/cache.ts';
import type { Exposures } from './experiments/exposures.ts';
import type { Metrics } from './metrics.ts';
import type { Outages } from './outage.ts';
import type { RedisClient } from './store/redis/client.ts';
import type { Tenants } from './tenants.ts';

export interface AppDeps {
  config: Config;
  pool: pg.Pool;
  redis: RedisClient;
  outages: Outages;
  /** Each tenant's own services, by the tenant the request acts for (request.tenant). */
  tenants: Tenants;
  metrics: Metrics;
  /** Experiment definitions, read every few seconds, never per request. */
  experiments: ExperimentCache;
  /** Exposures: noted in Redis, buffered and written to PostgreSQL off the request path; deferred ones wait for their impression. */
  exposures: Exposures;
  email: {
    blocks: BlockService;
    template: Template;
    /** HMAC and encryption secret of signed email URLs and click tokens. */
    secret: string;
  };
}
