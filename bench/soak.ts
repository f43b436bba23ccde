// Soak: minutes of mixed traffic over loopback against the real server (a child process) while
// the real build job publishes new model versions mid-run (child processes, one after another):
// reads of every recommendation endpoint for a spread of users and items, event writes, and
// email batches when the server has that route. Reports errors (target 0), latency before,
// during and after each build and its swap, and the server's resident memory over time (a leak
// is a steady climb; the model cache filling up after a swap is a climb that levels off).
//   npm run bench:soak -- [--minutes 5] [--quick] [--rate 500] [--connections 16] [--builds 2] [--sample 2000]
// --quick: 30 s. UCI Online Retail in a database and Redis prefix of its own (imported once).
// Prints tables, writes results/bench-soak.json (bench-soak-quick.json).
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config.ts';
import { Mt19937 } from '../src/eval/random.ts';
import { redisKeys } from '../src/store/redis/keys.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { createRedis } from '../src/store/redis/client.ts';
import { benchDatabase, prepareModel, runJob, sample } from './lib/dataset.ts';
import { percentile } from './lib/load.ts';
import { freePort, startServer, type Server } from './lib/processes.ts';
import { sampleRss, slopePerMinute, type RssPoint } from './lib/rss.ts';
import { runTraffic, type TrafficRequest, type TrafficSample } from './lib/traffic.ts';
import { metricValue } from './lib/prometheus.ts';
import { printTable, writeResults } from './report.ts';

const SOAK_DATABASE = 'recs_bench_soak';
const SOAK_PREFIX = 'bench:soak:';
const SEED = 7;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    quick: { type: 'boolean', default: false },
    rate: { type: 'string', default: '500' },
    connections: { type: 'string', default: '16' },
    builds: { type: 'string', default: '2' },
    sample: { type: 'string', default: '2000' },
  },
});
const seconds = values.quick ? 30 : Number(values.minutes) * 60;
const rate = Number(values.rate);
const buildCount = Number(values.builds);
// The first seconds (connections, JIT, the cache filling) are left out of every figure.
const warmupMs = Math.min(10_000, seconds * 100);

interface Build {
  startMs: number;
  endMs: number;
  version: number | null;
  error?: string;
}

interface Row {
  name: string;
  seconds: number;
  requests: number;
  errors: number;
  degraded: number;
  p50: number;
  p99: number;
  max: number;
}

function summarize(name: string, samples: readonly TrafficSample[], spanMs: number): Row {
  const sorted = Float64Array.from(samples, (s) => s.ms).sort();
  return {
    name,
    seconds: spanMs / 1000,
    requests: samples.length,
    errors: samples.filter((s) => s.status < 200 || s.status >= 300).length,
    degraded: samples.filter((s) => s.degraded).length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/** Before the first build, during each, after each (until the next): by scheduled start. */
function phases(samples: readonly TrafficSample[], builds: readonly Build[], endMs: number): Row[] {
  const bounds: [string, number, number][] = [];
  let from = warmupMs;
  builds.forEach((b, i) => {
    bounds.push([i === 0 ? 'before builds' : `after build ${i}`, from, b.startMs]);
    bounds.push([`during build ${i + 1}`, b.startMs, b.endMs]);
    from = b.endMs;
  });
  bounds.push([builds.length ? `after build ${builds.length}` : 'steady', from, endMs]);
  return bounds.map(([name, start, end]) =>
    summarize(
      name,
      samples.filter((s) => s.at >= start && s.at < end),
      end - start,
    ),
  );
}

/** The request mix: a weighted draw per request, from a seeded generator (the same run twice). */
function requestMix(ids: { users: string[]; items: string[] }, withEmail: boolean): () => TrafficRequest {
  const rng = new Mt19937(SEED);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rng.nextDouble() * list.length)];
  const q = encodeURIComponent;
  const run = Date.now().toString(36);
  let event = 0;
  const get = (kind: string, path: string): TrafficRequest => ({ kind, method: 'GET', path });
  const mix: [number, () => TrafficRequest][] = [
    [22, () => get('collaborative by item', `/v1/recommendations/collaborative?item=${q(pick(ids.items))}`)],
    [14, () => get('collaborative by user', `/v1/recommendations/collaborative?user=${q(pick(ids.users))}`)],
    [5, () => get('same-brand by item', `/v1/recommendations/same-brand?item=${q(pick(ids.items))}`)],
    [5, () => get('same-brand by user', `/v1/recommendations/same-brand?user=${q(pick(ids.users))}`)],
    [12, () => get('recently-viewed', `/v1/recommendations/recently-viewed?user=${q(pick(ids.users))}`)],
    [12, () => get('popular', `/v1/recommendations/popular?exclude=${q(pick(ids.items))}`)],
    [
      25,
      () => ({
        kind: 'events (1-5 per batch)',
        method: 'POST',
        path: '/v1/events',
        body: JSON.stringify({
          events: Array.from({ length: 1 + Math.floor(rng.nextDouble() * 5) }, () => ({
            user_id: pick(ids.users),
            item_id: pick(ids.items),
            type: rng.nextDouble() < 0.85 ? 'view' : 'purchase',
            idempotency_key: `soak:${run}:${event++}`,
          })),
        }),
      }),
    ],
    ...(withEmail
      ? [
          [
            3,
            () => ({
              kind: 'email batch (10 users)',
              method: 'POST',
              path: '/v1/email/batch',
              body: JSON.stringify({ strategy: 'collaborative', users: Array.from({ length: 10 }, () => pick(ids.users)) }),
            }),
          ] as [number, () => TrafficRequest],
        ]
      : []),
  ];
  const total = mix.reduce((sum, [weight]) => sum + weight, 0);
  return () => {
    let roll = rng.nextDouble() * total;
    for (const [weight, make] of mix) if ((roll -= weight) < 0) return make();
    return mix[0][1]();
  };
}

const config = loadConfig();
const databaseUrl = await benchDatabase(config.databaseUrl, SOAK_DATABASE);
const pool = createPool(databaseUrl, 2);
const redis = createRedis(config.redisUrl);
const keys = redisKeys(SOAK_PREFIX);
const env = { DATABASE_URL: databaseUrl, REDIS_PREFIX: SOAK_PREFIX, LOG_LEVEL: 'warn' };
let server: Server | undefined;
try {
  await prepareModel(databaseUrl, redis, pool, false, SOAK_PREFIX);
  const ids = await sample(pool, Number(values.sample));
  server = await startServer('src/server.ts', [], await freePort(), env, '/ready');
  const api = server;
  const openapi = (await (await fetch(`${api.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
  const withEmail = '/v1/email/batch' in openapi.paths;
  console.error(
    `soak: ${seconds} s at ${rate} req/s over ${values.connections} connections, ${buildCount} builds, ${ids.users.length} users and ${ids.items.length} items${withEmail ? '' : ' (no email batch route: skipped)'}`,
  );

  const metric = async (name: string) => metricValue(await (await fetch(`${api.url}/metrics`)).text(), name);
  const heapAtStart = await metric('nodejs_heap_size_used_bytes');
  const rss = sampleRss(api.pid, 1000);
  const origin = performance.now();
  const builds: Build[] = [];
  // Builds one after another, at even intervals through the run.
  const building = (async () => {
    for (let i = 1; i <= buildCount; i++) {
      const at = (seconds * 1000 * i) / (buildCount + 1);
      await sleep(Math.max(0, at - (performance.now() - origin)));
      const build: Build = { startMs: performance.now() - origin, endMs: 0, version: null };
      console.error(`soak: build ${i} starts at ${(build.startMs / 1000).toFixed(1)} s`);
      await runJob('jobs/build.ts', ['--json'], env).catch((err: Error) => {
        build.error = err.message.split('\n')[0];
      });
      build.endMs = performance.now() - origin;
      build.version = Number(await redis.get(keys.current));
      builds.push(build);
    }
  })();
  const samples = await runTraffic(api.url, { rate, seconds, connections: Number(values.connections), timeoutMs: 5000 }, requestMix(ids, withEmail));
  await building;
  const points = rss.stop();
  const heapAtEnd = await metric('nodejs_heap_size_used_bytes');
  const cacheBytes = await metric('recs_model_cache_bytes');

  const measured = samples.filter((s) => s.at >= warmupMs);
  const endMs = seconds * 1000;
  const phaseRows = phases(samples, builds, endMs);
  const kinds = [...new Set(measured.map((s) => s.kind))].map((kind) =>
    summarize(
      kind,
      measured.filter((s) => s.kind === kind),
      endMs - warmupMs,
    ),
  );
  const overall = summarize('all', measured, endMs - warmupMs);

  const steady = points.filter((p) => p.t * 1000 >= warmupMs);
  const afterBuilds = points.filter((p) => p.t * 1000 >= (builds.at(-1)?.endMs ?? warmupMs));
  const mib = (p: RssPoint | undefined) => (p === undefined ? NaN : Number(p.mib.toFixed(1)));
  const memory = {
    rss_start_mib: mib(steady[0]),
    rss_end_mib: mib(steady.at(-1)),
    rss_max_mib: Math.max(...steady.map((p) => p.mib)),
    rss_slope_mib_per_min: Number(slopePerMinute(steady).toFixed(2)),
    rss_slope_after_last_build_mib_per_min: Number(slopePerMinute(afterBuilds).toFixed(2)),
    heap_used_start_mib: Number((heapAtStart / 1048576).toFixed(1)),
    heap_used_end_mib: Number((heapAtEnd / 1048576).toFixed(1)),
    model_cache_end_mib: Number((cacheBytes / 1048576).toFixed(1)),
  };

  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-');
  const row = (r: Row) => [r.name, r.seconds.toFixed(1), r.requests, Math.round(r.requests / Math.max(r.seconds, 1e-9)), r.errors, r.degraded, ms(r.p50), ms(r.p99), ms(r.max)];
  const header = ['', 'seconds', 'requests', 'req/s', 'errors', 'degraded', 'p50 ms', 'p99 ms', 'max ms'];
  console.log(`\nSoak: ${seconds} s of mixed traffic at ${rate} req/s (open loop, ${values.connections} connections), ${availableParallelism()} CPUs; the first ${warmupMs / 1000} s left out`);
  printTable(header, [...phaseRows.map(row), row(overall)]);
  console.log('');
  printTable(header, kinds.map(row));
  console.log('');
  printTable(
    ['build', 'started at s', 'seconds', 'version', 'result'],
    builds.map((b, i) => [String(i + 1), (b.startMs / 1000).toFixed(1), ((b.endMs - b.startMs) / 1000).toFixed(1), String(b.version), b.error ?? 'ok']),
  );
  console.log(
    `\nserver RSS: ${memory.rss_start_mib} MiB at the start, ${memory.rss_end_mib} at the end, ${memory.rss_max_mib.toFixed(1)} at most; ` +
      `slope ${memory.rss_slope_mib_per_min} MiB/min over the run, ${memory.rss_slope_after_last_build_mib_per_min} MiB/min after the last build`,
  );
  console.log(`server heap used: ${memory.heap_used_start_mib} → ${memory.heap_used_end_mib} MiB; model cache at the end: ${memory.model_cache_end_mib} MiB`);
  const misses = [
    ...(overall.errors > 0 ? [`${overall.errors} errors`] : []),
    ...(overall.degraded > 0 ? [`${overall.degraded} degraded answers`] : []),
    ...builds.filter((b) => b.error).map((b) => `a build failed: ${b.error}`),
  ];
  console.log(misses.length ? `targets missed: ${misses.join('; ')}` : 'targets met: no errors, no degraded answers, every build published');

  await writeResults(values.quick ? 'bench-soak-quick' : 'bench-soak', {
    seconds,
    warmup_seconds: warmupMs / 1000,
    rate,
    connections: Number(values.connections),
    cpus: availableParallelism(),
    node: process.version,
    email_batches: withEmail,
    phases: phaseRows,
    kinds,
    overall,
    builds,
    memory,
    rss: points,
    targets_missed: misses,
  });
} finally {
  await server?.stop();
  await Promise.allSettled([pool.end(), redis.quit()]);
}
