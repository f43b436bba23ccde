// Prometheus metrics of one app instance, on a registry of its own (not prom-client's global
// one), so that several apps in one process (tests) do not clash.
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelView, Source, Strategy } from './recommend/types.ts';
import type { CacheStats } from './lib/lru-cache.ts';

/** What the metrics read at scrape time. */
export interface MetricsSources {
  /** The live model of each tenant served since start (null: none live, or Redis away). */
  models(): Promise<[tenant: string, model: ModelView | null][]>;
  cacheStats(): CacheStats;
}

// Serving is measured in fractions of a millisecond: the buckets start well below 1 ms.
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Metrics {
  readonly registry = new Registry();
  private readonly http: Histogram<'method' | 'route' | 'status_code'>;
  // Per tenant: the label's values are the tenants API keys name (operators create them), never
  // a caller's parameter, so their number stays bounded.
  private readonly strategy: Histogram<'tenant' | 'strategy'>;
  private readonly fallbacks: Counter<'tenant' | 'strategy' | 'source'>;
  private readonly empty: Counter<'tenant' | 'strategy'>;
  private readonly degradedBlocks: Counter<'tenant' | 'strategy'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.http = new Histogram({
      name: 'recs_http_request_duration_seconds',
      help: 'HTTP requests by route and status: latency (the _count is the request count)',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.strategy = new Histogram({
      name: 'recs_recommendation_duration_seconds',
      help: 'Time to compute a recommendation block, by requested strategy',
      labelNames: ['tenant', 'strategy'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.fallbacks = new Counter({
      name: 'recs_recommendation_fallback_total',
      help: 'Blocks in which a fallback source (not the requested strategy) supplied items, by source',
      labelNames: ['tenant', 'strategy', 'source'],
      registers,
    });
    this.empty = new Counter({
      name: 'recs_recommendation_empty_total',
      help: 'Blocks answered with no items at all',
      labelNames: ['tenant', 'strategy'],
      registers,
    });
    this.degradedBlocks = new Counter({
      name: 'recs_recommendation_degraded_total',
      help: 'Blocks answered from the in-process cache, non-personal, because Redis was down or slow',
      labelNames: ['tenant', 'strategy'],
      registers,
    });
    new Gauge({
      name: 'recs_model_version',
      help: 'Model version being served, per tenant (absent before the first build)',
      labelNames: ['tenant'],
      registers,
      // Redis away: the gauge is left out, the rest of the scrape (the degraded count) still answers.
      async collect() {
        this.reset();
        for (const [tenant, model] of await sources.models()) if (model?.version != null) this.set({ tenant }, model.version);
      },
    });
    new Gauge({
      name: 'recs_model_age_seconds',
      help: 'Seconds since the served model was built (meta built_at), per tenant',
      labelNames: ['tenant'],
      registers,
      async collect() {
        this.reset();
        for (const [tenant, model] of await sources.models()) if (model?.builtAt != null) this.set({ tenant }, (Date.now() - Date.parse(model.builtAt)) / 1000);
      },
    });
    this.cacheGauges('recs_model_cache', 'Model values', () => sources.cacheStats());
  }

  /** The block cache's gauges (src/http/block-cache.ts). */
  watchBlockCache(stats: () => CacheStats): void {
    this.cacheGauges('recs_block_cache', 'Serialized non-personal blocks', stats);
  }

  watchUserCache(stats: () => CacheStats): void {
    this.cacheGauges('recs_user_cache', "Users' results (kept until their data changes)", stats);
  }

  // Gauges, not counters: the caches keep the running totals, these report them at scrape time.
  private cacheGauges(prefix: string, what: string, stats: () => CacheStats): void {
    const gauge = (name: string, help: string, read: (s: CacheStats) => number) =>
      new Gauge({
        name: `${prefix}_${name}`,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(stats()));
        },
      });
    gauge('entries', `${what} held in the in-process cache`, (s) => s.entries);
    gauge('bytes', `Estimated heap bytes of the in-process cache of ${what.toLowerCase()}`, (s) => s.bytes);
    gauge('hits', `${what}: cache hits since start`, (s) => s.hits);
    gauge('misses', `${what}: cache misses since start`, (s) => s.misses);
    gauge('evictions', `${what}: cache evictions since start (the bounds are too tight if this climbs)`, (s) => s.evictions);
  }

  /** Records one computed block: its latency, the fallback sources it needed, whether it came out empty. */
  recommendation(tenant: string, strategy: Strategy, sources: readonly Source[], itemCount: number, seconds: number): void {
    this.strategy.observe({ tenant, strategy }, seconds);
    for (const source of sources) if (source !== strategy) this.fallbacks.inc({ tenant, strategy, source });
    if (itemCount === 0) this.empty.inc({ tenant, strategy });
  }

  degraded(tenant: string, strategy: Strategy): void {
    this.degradedBlocks.inc({ tenant, strategy });
  }

  /** Times every request and serves GET /metrics (with a read key when `requireKey`). */
  install(app: FastifyInstance, requireKey: boolean): void {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.http.observe({ method: request.method, route, status_code: reply.statusCode }, reply.elapsedTime / 1000);
      done();
    });
    app.get('/metrics', { config: { access: requireKey ? 'read' : 'public', personal: 'none' }, schema: { hide: true } }, async (_request, reply) => {
      return reply.type(this.registry.contentType).send(await this.registry.metrics());
    });
  }
}
