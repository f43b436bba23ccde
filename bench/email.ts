// Email block benchmark: how many users per second get a block, one GET per user (as an ESP's
// Connected Content does) vs POST /v1/email/batch with 1000 users per request (child processes,
// real Redis, UCI Online Retail imported and built by the real jobs). The single GETs run against
// a server keeping users' results and one computing every block; the batch against the latter.
//   npm run bench:email -- [--seconds 10] [--warmup 3] [--connections 10] [--batch-connections 2] [--sample 2000] [--rounds 3]
// Prints a table, writes results/bench-email.json.
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { createRedis } from '../src/store/redis/client.ts';
import { benchDatabase, BENCH_PREFIX, prepareModel, sample } from './lib/dataset.ts';
import { load, type LoadResult } from './lib/load.ts';
import { freePort, startServer, type Server } from './lib/processes.ts';
import { printTable, writeResults } from './report.ts';

const BATCH_USERS = 1000;
const LIMIT = 6;

interface Run {
  mode: string;
  requestsPerSecond: number;
  usersPerSecond: number;
  /** Users per second against the recommendation GET of the same server. */
  vsGet: number;
  p50: number;
  p99: number;
  errors: number;
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    'batch-connections': { type: 'string', default: '2' },
    sample: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    rebuild: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const batchConnections = Number(values['batch-connections']);
const rounds = Number(values.rounds);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;

/** Closed loop: `connections` clients each POST the next body as soon as the last one answered. */
async function batchLoad(url: string, bodies: readonly string[], durationSeconds: number): Promise<Omit<Run, 'vsGet'>> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const end = started + durationSeconds * 1000;
  await Promise.all(
    Array.from({ length: batchConnections }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[next++ % bodies.length] });
        const body = (await res.json()) as { blocks?: unknown[] };
        if (!res.ok || body.blocks?.length !== BATCH_USERS) errors++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    mode: `POST /v1/email/batch (${BATCH_USERS} users)`,
    requestsPerSecond: latencies.length / elapsed,
    usersPerSecond: (latencies.length * BATCH_USERS) / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors,
  };
}

const config = loadConfig();
const databaseUrl = await benchDatabase(config.databaseUrl);
const pool = createPool(databaseUrl, 2);
const redis = createRedis(config.redisUrl);
const servers: Server[] = [];
try {
  await prepareModel(databaseUrl, redis, pool, values.rebuild!);
  const { users } = await sample(pool, Number(values.sample));
  if (users.length < BATCH_USERS) throw new Error(`need at least ${BATCH_USERS} users, the sample has ${users.length}`);
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_PREFIX: BENCH_PREFIX,
    LOG_LEVEL: 'warn',
    EMAIL_SIGNING_SECRET: 'bench-email-secret-0123456789abcdef-xyz',
    PRODUCT_URL_TEMPLATE: 'https://shop.example/p/{id}',
  };
  // Every user is asked for again within a run: one server answers them from the results it keeps
  // until their data changes, the other computes every block (a send, which reads each user once).
  const variants = [
    { label: 'kept results', server: await startServer('src/server.ts', [], await freePort(), env, '/ready') },
    { label: 'computed', server: await startServer('src/server.ts', [], await freePort(), { ...env, SERVING_USER_CACHE_SECONDS: '0' }, '/ready') },
  ];
  servers.push(...variants.map((v) => v.server));
  const q = encodeURIComponent;

  const runs: Run[] = [];
  // The recommendation GET of the same block first: what an email block costs on top of it.
  const singles: [mode: string, path: (user: string) => string][] = [
    ['GET /v1/recommendations/collaborative (1 user)', (u) => `/v1/recommendations/collaborative?user=${q(u)}&limit=${LIMIT}`],
    ...(['json', 'html'] as const).map((format): [string, (user: string) => string] => [
      `GET /v1/email/collaborative.${format} (1 user)`,
      (u) => `/v1/email/collaborative.${format}?user=${q(u)}&limit=${LIMIT}`,
    ]),
  ];
  // Rounds of the three modes in turn, each ratio against the GET of its own round: the host's
  // speed drifts between runs, and a ratio of neighbouring runs is the fair one. Medians reported.
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  for (const { label, server } of variants) {
    const measured: LoadResult[][] = singles.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (const [k, [mode, path]] of singles.entries()) {
        const paths = users.map(path);
        if (warmup > 0) await load(server.url, paths, { seconds: warmup, connections });
        measured[k].push(await load(server.url, paths, { seconds, connections }));
        console.error(`bench: ${label}: ${mode}, round ${round + 1}: ${Math.round(measured[k].at(-1)!.requestsPerSecond)} users/s`);
      }
    }
    for (const [k, [mode]] of singles.entries()) {
      const r = measured[k];
      const rate = median(r.map((x) => x.requestsPerSecond));
      runs.push({
        mode: `${label}: ${mode}`,
        requestsPerSecond: rate,
        usersPerSecond: rate,
        vsGet: median(r.map((x, round) => x.requestsPerSecond / measured[0][round].requestsPerSecond)),
        p50: median(r.map((x) => x.p50)),
        p99: median(r.map((x) => x.p99)),
        errors: r.reduce((sum, x) => sum + x.errors + x.timeouts + x.non2xx, 0),
      });
    }
  }
  const base = variants[1].server.url;
  const computedGet = runs[singles.length].usersPerSecond;
  // Rotating slices of the sample: each batch asks for another 1000 users.
  const bodies = Array.from({ length: Math.ceil(users.length / BATCH_USERS) * 2 }, (_, i) => {
    const start = (i * 500) % (users.length - BATCH_USERS + 1);
    return JSON.stringify({ strategy: 'collaborative', limit: LIMIT, users: users.slice(start, start + BATCH_USERS) });
  });
  if (warmup > 0) await batchLoad(`${base}/v1/email/batch`, bodies, warmup);
  const batch = await batchLoad(`${base}/v1/email/batch`, bodies, seconds);
  runs.push({ ...batch, mode: `computed: ${batch.mode}`, vsGet: batch.usersPerSecond / computedGet });
  console.error(`bench: ${runs.at(-1)!.mode}: ${Math.round(runs.at(-1)!.usersPerSecond)} users/s`);

  console.log(
    `\nEmail block benchmark: ${seconds} s per run after ${warmup} s warm-up, GETs in ${rounds} rounds (medians; ratios against the GET of the same round); GET: ${connections} connections (autocannon); batch: ${batchConnections} connections; ` +
      `${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}); collaborative blocks of ${LIMIT} items for ${users.length} sampled UCI customers`,
  );
  printTable(
    ['mode', 'requests/s', 'users/s', 'vs recommendation GET (same server)', 'p50 ms', 'p99 ms', 'errors'],
    runs.map((r) => [r.mode, Math.round(r.requestsPerSecond), Math.round(r.usersPerSecond), `${r.vsGet.toFixed(2)}x`, r.p50.toFixed(2), r.p99.toFixed(2), r.errors]),
  );
  await writeResults('bench-email', {
    seconds,
    warmup,
    connections,
    batch_connections: batchConnections,
    batch_users: BATCH_USERS,
    limit: LIMIT,
    cpus: availableParallelism(),
    node: process.version,
    users: users.length,
    rounds,
    runs,
  });
} finally {
  for (const server of servers) await server.stop();
  await Promise.allSettled([pool.end(), redis.quit()]);
}
