// Redis past one machine (docs/scaling.md), on the single Redis (REDIS_URL) and on the Redis
// Cluster (REDIS_CLUSTER_NODES; `npm run bench:redis` starts the local one):
//  1. memory: MEMORY USAGE of every key of the UCI model and of the users' keys, as the real
//     jobs import, build and publish them, per kind; then synthetic users written by the events
//     writer (writeUsers), INFO used_memory before and after.
//  2. model reads on the Cluster: the neighbour lists of a personalised block (--keys of them,
//     as many slots) as a GET per key (what getMany does), an MGET per slot, and a pipeline of
//     GETs per node; each with the serving client's write coalescing and without; one MGET on
//     the single Redis for reference. Then the user-history script (one command per request),
//     coalesced or not. Closed loop, --concurrency requests in flight, rounds alternate variants.
//  3. the copy of the user flags on the Cluster (src/store/redis/user-flags.ts) by the API's
//     client: with every slot's marker there (what each build does), and after the markers of
//     one master's slots were lost; its time and how long it held up the event loop.
//   npm run bench:redis -- [--seconds 5] [--rounds 3] [--concurrency 10] [--keys 20] [--users 20000]
// Prints tables, writes results/bench-redis.json.
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../src/config.ts';
import { createPool } from '../src/store/pg/pool.ts';
import type { Cluster } from 'ioredis';
import { Batch, createJobsRedis, createServingClient, deleteMatching, eachKey, execOrThrow, masters, scanEach, type RedisClient } from '../src/store/redis/client.ts';
import { keySlot, redisKeys, SLOTS } from '../src/store/redis/keys.ts';
import { readHistory } from '../src/store/redis/user-history.ts';
import { copyUserFlags } from '../src/store/redis/user-flags.ts';
import { writeUsers } from '../src/store/redis/user-writes.ts';
import { benchDatabase, prepareModel, sample } from './lib/dataset.ts';
import { printTable, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '10' },
    keys: { type: 'string', default: '20' },
    users: { type: 'string', default: '20000' },
    rebuild: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const KEYS_PER_REQUEST = Number(values.keys);
const SYNTHETIC_USERS = Number(values.users);
// Views up to the default cap, and purchases about as many as a UCI buyer's distinct items (median).
const SYNTHETIC_VIEWS = 50;
const SYNTHETIC_PURCHASES = 40;

const base = loadConfig();
if (base.scale.redisClusterNodes.length === 0) throw new Error('REDIS_CLUSTER_NODES is not set: run `npm run bench:redis` (it starts the local cluster)');
const single: Config = { ...base, scale: { ...base.scale, redisClusterNodes: [] } };
const cluster: Config = base;
const SINGLE_PREFIX = 'bench:api:';
const CLUSTER_PREFIX = 'bench:cluster:';
// Generous: the bench saturates two cores, and a timed-out read would be counted, not measured.
const serving = (config: Config) => ({ ...config, serving: { ...config.serving, redisCommandTimeoutMs: 2000 } });

// ---- 1. memory -------------------------------------------------------------------------------

const KINDS: [RegExp, string][] = [
  [/^cf:v\d+:/, 'neighbour list'],
  [/^item:v\d+:/, 'catalog fields'],
  [/^pop:v\d+:all$/, 'popular list'],
  [/^pop:v\d+:cat:/, 'category list'],
  [/^brand:v\d+:/, 'brand list'],
  [/^meta:v\d+:/, 'meta'],
  [/^rv:/, 'recently viewed (ZSET)'],
  [/^purchased:/, 'purchases (ZSET)'],
  [/^purchased-ids:/, 'purchases joined (STRING)'],
  [/^optout:/, 'opt-out flag'],
  [/^erased:/, 'tombstone'],
  [/^flags:synced:\{/, 'flags marker (one per slot)'],
];

interface KindMemory {
  kind: string;
  keys: number;
  bytes: number;
}

/** MEMORY USAGE (exact: SAMPLES 0) of every key under `prefix`, summed per kind; model keys of the live version only. */
async function memoryByKind(redis: RedisClient, prefix: string): Promise<KindMemory[]> {
  const live = Number(await redis.get(redisKeys(prefix).current));
  const byKind = new Map<string, KindMemory>();
  for await (const { node, keys } of scanEach(redis, `${prefix}*`)) {
    const pipeline = node.pipeline();
    for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const sizes = await execOrThrow(pipeline);
    keys.forEach((key, i) => {
      const name = key.slice(prefix.length);
      const version = /^\w+:v(\d+):/.exec(name)?.[1];
      if (version !== undefined && Number(version) !== live) return;
      const kind = KINDS.find(([re]) => re.test(name))?.[1] ?? 'other';
      const entry = byKind.get(kind) ?? { kind, keys: 0, bytes: 0 };
      entry.keys++;
      entry.bytes += Number(sizes[i]);
      byKind.set(kind, entry);
    });
  }
  return KINDS.map(([, kind]) => byKind.get(kind)).filter((k): k is KindMemory => k !== undefined);
}

async function usedMemory(redis: RedisClient): Promise<number> {
  let bytes = 0;
  for (const node of await masters(redis)) bytes += Number(/used_memory:(\d+)/.exec(await node.info('memory'))![1]);
  return bytes;
}

/** Synthetic users through the events writer: bytes of used_memory per user. */
async function syntheticUsers(redis: RedisClient, prefix: string): Promise<{ users: number; bytesPerUser: number }> {
  const keys = redisKeys(prefix);
  await deleteMatching(redis, `${prefix}*`);
  // The writer's script writes nothing unless the flags are known to be there.
  await copyUserFlags(redis, keys, async () => []);
  const before = await usedMemory(redis);
  const at = Date.UTC(2026, 0, 1);
  const item = (n: number) => `uci:${(85000 + ((n * 7919) % 4000)).toString()}A`;
  for (let u = 0; u < SYNTHETIC_USERS; u += 200) {
    const events = [];
    for (let v = u; v < Math.min(u + 200, SYNTHETIC_USERS); v++) {
      for (let i = 0; i < SYNTHETIC_VIEWS; i++) events.push({ user: `synthetic-${v}`, item: item(v + i), type: 'view', occurredAt: new Date(at + i * 60_000) });
      for (let i = 0; i < SYNTHETIC_PURCHASES; i++) events.push({ user: `synthetic-${v}`, item: item(v * 3 + i), type: 'purchase', occurredAt: new Date(at + i * 86_400_000) });
    }
    await writeUsers(redis, keys, { recentlyViewedCap: SYNTHETIC_VIEWS, purchaseOccasionsCap: SYNTHETIC_PURCHASES, ttlSeconds: 3600 }, events);
  }
  const after = await usedMemory(redis);
  await deleteMatching(redis, `${prefix}*`);
  return { users: SYNTHETIC_USERS, bytesPerUser: Math.round((after - before) / SYNTHETIC_USERS) };
}

// ---- 2. reads ----------------------------------------------------------------------------------

type Read = (redis: RedisClient, keys: string[]) => Promise<unknown>;

const READS: Record<string, Read> = {
  'a GET per key (getMany)': (redis, keys) => Promise.all(keys.map((key) => redis.get(key))),
  'an MGET per slot': (redis, keys) => {
    const bySlot = new Map<number, string[]>();
    for (const key of keys) bySlot.set(keySlot(key), [...(bySlot.get(keySlot(key)) ?? []), key]);
    return Promise.all([...bySlot.values()].map((group) => redis.mget(group)));
  },
  'a pipeline of GETs per node': (redis, keys) => {
    const batch = new Batch(redis);
    for (const key of keys) batch.add(key, (p) => p.get(key));
    return execOrThrow(batch);
  },
};

interface ReadRun {
  variant: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  clientUs: number;
  redisUs: number;
  errors: number;
}

async function redisCpuSeconds(redis: RedisClient): Promise<number> {
  let seconds = 0;
  for (const node of await masters(redis)) {
    const info = await node.info('cpu');
    seconds += Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
  }
  return seconds;
}

/** Closed loop: CONCURRENCY requests in flight for SECONDS, each one `request()`. */
async function run(variant: string, redis: RedisClient, request: () => Promise<unknown>): Promise<ReadRun> {
  const latencies: number[] = [];
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const redis0 = await redisCpuSeconds(redis);
  const started = performance.now();
  const end = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await request().catch(() => {
          errors++;
        });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const redisSeconds = (await redisCpuSeconds(redis)) - redis0;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2));
  const n = latencies.length;
  return {
    variant,
    requestsPerSecond: Math.round(n / elapsed),
    p50: at(0.5),
    p99: at(0.99),
    clientUs: Math.round((cpu.user + cpu.system) / n),
    redisUs: Math.round((redisSeconds * 1e6) / n),
    errors,
  };
}

const median = (runs: ReadRun[]): ReadRun => {
  const mid = <K extends keyof ReadRun>(k: K) => runs.map((r) => r[k] as number).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  return {
    variant: runs[0].variant,
    requestsPerSecond: mid('requestsPerSecond'),
    p50: mid('p50'),
    p99: mid('p99'),
    clientUs: mid('clientUs'),
    redisUs: mid('redisUs'),
    errors: runs.reduce((s, r) => s + r.errors, 0),
  };
};

const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)];

// ---- main --------------------------------------------------------------------------------------

const databaseUrl = await benchDatabase(base.databaseUrl);
const pool = createPool(databaseUrl, 2);
const jobs = { single: createJobsRedis(single), cluster: createJobsRedis(cluster) };
try {
  await prepareModel(databaseUrl, jobs.single, pool, values.rebuild, SINGLE_PREFIX, { REDIS_CLUSTER_NODES: '' });
  await prepareModel(databaseUrl, jobs.cluster, pool, values.rebuild, CLUSTER_PREFIX, { REDIS_CLUSTER_NODES: base.scale.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(',') });

  const memory: Record<string, unknown> = {};
  for (const [where, redis, prefix] of [
    ['single', jobs.single, SINGLE_PREFIX],
    ['cluster', jobs.cluster, CLUSTER_PREFIX],
  ] as const) {
    const kinds = await memoryByKind(redis, prefix);
    const synthetic = await syntheticUsers(redis, `bench:redis-users:${where}:`);
    memory[where] = { kinds, synthetic };
    console.log(`\nRedis memory, UCI model and users as built (${where}):`);
    printTable(
      ['kind', 'keys', 'bytes per key', 'MiB'],
      kinds.map((k) => [k.kind, k.keys, Math.round(k.bytes / k.keys), (k.bytes / 2 ** 20).toFixed(2)]),
    );
    console.log(
      `synthetic users (${SYNTHETIC_VIEWS} views, ${SYNTHETIC_PURCHASES} purchases each, written by writeUsers): ${synthetic.bytesPerUser.toLocaleString('en-US')} bytes of used_memory per user (${synthetic.users.toLocaleString('en-US')} users)`,
    );
  }

  const { items, users } = await sample(pool, 2000);
  const clusterKeys = redisKeys(CLUSTER_PREFIX);
  const version = Number(await jobs.cluster.get(clusterKeys.current));
  const withNeighbours = (await Promise.all(items.map(async (i) => ((await jobs.cluster.exists(clusterKeys.neighbours(version, i))) ? i : null)))).filter((i): i is string => i !== null);
  const singleVersion = Number(await jobs.single.get(redisKeys(SINGLE_PREFIX).current));
  const seeds = (prefix: string, v: number) => Array.from({ length: KEYS_PER_REQUEST }, () => redisKeys(prefix).neighbours(v, pick(withNeighbours)));

  const clients = {
    single: createServingClient(serving(single)),
    coalesced: createServingClient(serving(cluster)),
    plain: createServingClient(serving(cluster), { coalesce: false }),
  };
  // No offline queue on the API's clients: wait until they are connected.
  await Promise.all(Object.values(clients).map((c) => (c.status === 'ready' ? undefined : once(c, 'ready'))));
  const variants: [string, RedisClient, () => Promise<unknown>][] = [['single Redis: one MGET (reference)', clients.single, () => clients.single.mget(seeds(SINGLE_PREFIX, singleVersion))]];
  for (const [name, read] of Object.entries(READS)) {
    variants.push([`Cluster: ${name}, coalesced`, clients.coalesced, () => read(clients.coalesced, seeds(CLUSTER_PREFIX, version))]);
    variants.push([`Cluster: ${name}, not coalesced`, clients.plain, () => read(clients.plain, seeds(CLUSTER_PREFIX, version))]);
  }
  const history = (redis: RedisClient, prefix: string) => () => readHistory(redis, redisKeys(prefix), pick(users), { viewed: 50, bought: true, purchases: false });
  variants.push(
    ['single Redis: history script (reference)', clients.single, history(clients.single, SINGLE_PREFIX)],
    ['Cluster: history script, coalesced', clients.coalesced, history(clients.coalesced, CLUSTER_PREFIX)],
    ['Cluster: history script, not coalesced', clients.plain, history(clients.plain, CLUSTER_PREFIX)],
  );
  const runs = new Map<string, ReadRun[]>();
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order, so that a drifting VM does not favour whoever runs first.
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const [name, redis, request] of order) {
      for (let i = 0; i < 200; i++) await request(); // warm-up: connections, scripts, JIT
      runs.set(name, [...(runs.get(name) ?? []), await run(name, redis, request)]);
      console.error(`bench: round ${round + 1}/${ROUNDS} ${name}`);
    }
  }
  const results = variants.map(([name]) => median(runs.get(name)!));
  console.log(`\nReads, median of ${ROUNDS} rounds of ${SECONDS} s, ${CONCURRENCY} requests in flight, ${KEYS_PER_REQUEST} neighbour lists per model read:`);
  printTable(
    ['variant', 'req/s', 'p50 ms', 'p99 ms', 'client µs/req', 'Redis µs/req', 'errors'],
    results.map((r) => [r.variant, r.requestsPerSecond, r.p50, r.p99, r.clientUs, r.redisUs, r.errors]),
  );

  const copies = [];
  const slotMap = (jobs.cluster as Cluster).slots;
  const firstMaster = slotMap[0][0];
  for (const [when, lose] of [
    ['every marker there', false],
    ["one master's markers lost", true],
  ] as const) {
    for (let round = 0; round < ROUNDS; round++) {
      if (lose)
        await eachKey(
          jobs.cluster,
          Array.from({ length: SLOTS }, (_, slot) => slot)
            .filter((slot) => slotMap[slot][0] === firstMaster)
            .map((slot) => clusterKeys.flagsSyncedIn(slot)),
          'UNLINK',
        );
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const started = performance.now();
      await copyUserFlags(clients.coalesced, clusterKeys, async () => []);
      delay.disable();
      copies.push({ when, ms: Math.round(performance.now() - started), loopDelayMaxMs: Math.round(delay.max / 1e6), loopDelayP99Ms: Math.round(delay.percentile(99) / 1e6) });
    }
  }
  console.log(`\nCopy of the user flags on the Cluster by the API's client (${ROUNDS} rounds each):`);
  printTable(
    ['markers', 'ms', 'event-loop delay p99 ms', 'max ms'],
    copies.map((c) => [c.when, c.ms, c.loopDelayP99Ms, c.loopDelayMaxMs]),
  );
  await writeResults('bench-redis', {
    seconds: SECONDS,
    rounds: ROUNDS,
    concurrency: CONCURRENCY,
    keysPerRequest: KEYS_PER_REQUEST,
    memory,
    reads: results,
    runs: Object.fromEntries(runs),
    flagCopies: copies,
  });
  await Promise.all(Object.values(clients).map((c) => c.quit()));
} finally {
  await Promise.allSettled([pool.end(), jobs.single.quit(), jobs.cluster.quit()]);
}
