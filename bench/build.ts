// Build-job scaling benchmark: import + build + publish at growing data sizes, each in a fresh
// database and Redis prefix, the build in its own process so its peak RSS is its own.
//   npm run bench:build -- [--fractions 10,25,50,100] [--synthetic 5000000] [--synthetic-items 200000] [--workers N]
//                          [--big 20000000,50000000]
// Sizes: user-samples of UCI Online Retail (the largest bundled purchase set), then a synthetic
// scale-up drawn from its distributions. Prints a table and writes results/bench-build.json.
// --big (opt-in: tens of minutes) adds shop-sized generic CSV files (one user per 10 events, one
// item per 40, over 24 months; shaped by REES46 and UCI: bench/lib/synthetic-events.ts), each
// imported by the import CLI and built by the build CLI in their own processes (peak RSS of
// each), with a bare `psql \copy` of the same file into an unindexed table in the same run as
// the import's yardstick, and the PostgreSQL half of the build's load (the same COPY out, to
// /dev/null) to tell it from the build's own parsing.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { parseArgs, promisify } from 'node:util';
import type { BuildSummary } from '../jobs/lib/build-model.ts';
import { importSource, type ImportSummary } from '../jobs/lib/loader.ts';
import { datasetSources, openSource, type EventRecord } from '../jobs/lib/sources.ts';
import { loadConfig } from '../src/config.ts';
import { freshDatabase } from '../src/store/pg/databases.ts';
import { migrate } from '../src/store/pg/migrate.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { createRedis, deleteMatching } from '../src/store/redis/client.ts';
import { syntheticInteractions } from '../src/eval/synthetic.ts';
import { runMeasured } from './lib/peak-rss.ts';
import { measureShape, writeSyntheticEvents, type EventShape } from './lib/synthetic-events.ts';
import { printTable, writeResults } from './report.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const TMP = `${ROOT}.tmp/bench-build/`;

interface Run {
  label: string;
  events: number;
  users: number;
  items: number;
  importSeconds: number;
  build: BuildSummary;
}

async function writeTsv(path: string, rows: AsyncIterable<EventRecord> | Iterable<EventRecord>): Promise<number> {
  const out = createWriteStream(path);
  out.write('user_id\titem_id\ttype\ttimestamp\tquantity\tprice\n');
  let n = 0;
  for await (const e of rows) {
    const line = `${e.user}\t${e.item}\t${e.type}\t${Math.floor(e.occurredAt.getTime() / 1000)}\t${e.quantity}\t${e.price ?? ''}\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    n++;
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return n;
}

/** UCI purchase events of a deterministic sample of customers (whole histories, not rows). */
async function* uciSample(percent: number): AsyncIterable<EventRecord> {
  const [{ format, path, name }] = datasetSources('uci');
  const source = await openSource(format, path, name);
  for await (const row of source.rows) {
    if (row.kind === 'event' && createHash('sha1').update(row.event.user).digest().readUInt32BE(0) % 100 < percent) yield row.event;
  }
}

function* synthetic(events: number, items: number): Iterable<EventRecord> {
  const x = syntheticInteractions({ events, items, seed: 42 });
  for (let r = 0; r < x.users.length; r++) {
    yield { user: x.userIds[x.users[r]], item: x.itemIds[x.items[r]], type: 'purchase', quantity: 1, price: null, weight: null, occurredAt: new Date(x.times[r] * 1000) };
  }
}

async function measure(label: string, events: AsyncIterable<EventRecord> | Iterable<EventRecord>, workers: number): Promise<Run> {
  const config = loadConfig();
  const file = `${TMP}${label.replace(/\W+/g, '_')}.tsv`;
  const written = await writeTsv(file, events);
  const databaseUrl = await freshDatabase(config.databaseUrl, 'recs_bench_build');
  const prefix = 'bench:build:';
  const pool = createPool(databaseUrl, 2);
  await migrate(pool);
  const t0 = performance.now();
  await importSource(pool, await openSource('generic-events', file, label), { quiet: true });
  const importSeconds = (performance.now() - t0) / 1000;
  await pool.end();
  await rm(file);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'jobs/build.ts', '--json', '--workers', String(workers)], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_PREFIX: prefix },
    maxBuffer: 1 << 24,
  });
  const build = JSON.parse(stdout) as BuildSummary;
  const redis = createRedis(config.redisUrl);
  await deleteMatching(redis, `${prefix}*`);
  await redis.quit();
  console.error(`  ${label}: ${written.toLocaleString('en-US')} events, build ${build.seconds.total.toFixed(2)} s, peak ${build.peakRssMiB} MiB`);
  return { label, events: build.events, users: build.users, items: build.items, importSeconds, build };
}

interface BigRun {
  label: string;
  lines: number;
  copySeconds: number;
  import: ImportSummary;
  importSeconds: number;
  importPeakRssMiB: number;
  copyOutSeconds: number;
  build: BuildSummary;
}

const psql = (url: string, command: string) => promisify(execFile)('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qc', command], { maxBuffer: 1 << 24 });

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return (performance.now() - t0) / 1000;
}

async function measureBig(events: number, shape: EventShape, workers: number): Promise<BigRun> {
  const config = loadConfig();
  const label = `synthetic ${events / 1e6}M`;
  const file = `${TMP}big_${events}.csv`;
  console.error(`  ${label}: writing ${file}`);
  await writeSyntheticEvents(file, { events, users: Math.round(events / 10), items: Math.round(events / 40), months: 24, end: Date.UTC(2026, 11, 1) / 1000, seed: 42 }, shape);
  const databaseUrl = await freshDatabase(config.databaseUrl, 'recs_bench_build');
  const pool = createPool(databaseUrl, 2);
  await migrate(pool);
  await pool.end();
  // The yardstick: the same file, parsed and stored by PostgreSQL alone, no index, no checks.
  await psql(databaseUrl, 'CREATE TABLE bare_copy (user_id text, item_id text, type text, ts bigint, quantity integer, price numeric)');
  const copySeconds = await seconds(() => psql(databaseUrl, `\\copy bare_copy FROM '${file}' WITH (FORMAT csv, HEADER true)`));
  await psql(databaseUrl, 'DROP TABLE bare_copy');
  console.error(`  ${label}: psql copy ${copySeconds.toFixed(1)} s; importing`);
  const env = { DATABASE_URL: databaseUrl, REDIS_PREFIX: 'bench:build:' };
  const imported = await runMeasured(ROOT, 'jobs/import.ts', ['--events', file, '--name', 'big', '--json'], env);
  const [summary] = JSON.parse(imported.stdout) as ImportSummary[];
  await rm(file);
  console.error(`  ${label}: import ${imported.seconds.toFixed(1)} s, peak ${imported.peakRssMiB} MiB; building`);
  const copyOutSeconds = await seconds(() =>
    psql(databaseUrl, `copy (SELECT user_id, item_id, type, weight, extract(epoch FROM occurred_at)::float8 FROM events WHERE tenant_id = 'default') TO '/dev/null'`),
  );
  const built = await runMeasured(ROOT, 'jobs/build.ts', ['--json', '--workers', String(workers)], env);
  const build = JSON.parse(built.stdout) as BuildSummary;
  const redis = createRedis(config.redisUrl);
  await deleteMatching(redis, 'bench:build:*');
  await redis.quit();
  console.error(`  ${label}: build ${build.seconds.total.toFixed(1)} s, peak ${build.peakRssMiB} MiB`);
  return { label, lines: events, copySeconds, import: summary, importSeconds: imported.seconds, importPeakRssMiB: imported.peakRssMiB, copyOutSeconds, build };
}

const { values } = parseArgs({
  options: {
    big: { type: 'string', default: '' },
    fractions: { type: 'string', default: '10,25,50,100' },
    synthetic: { type: 'string', default: '5000000' },
    'synthetic-items': { type: 'string', default: '200000' },
    workers: { type: 'string', default: String(loadConfig().build.workers) },
  },
});
await mkdir(TMP, { recursive: true });
const workers = Number(values.workers);
const runs: Run[] = [];
for (const percent of values.fractions!.split(',').filter(Boolean).map(Number)) {
  runs.push(await measure(`uci ${percent}%`, uciSample(percent), workers));
}
const syntheticEvents = Number(values.synthetic);
if (syntheticEvents > 0) {
  runs.push(await measure(`synthetic ${syntheticEvents / 1e6}M`, synthetic(syntheticEvents, Number(values['synthetic-items'])), workers));
}
if (runs.length) {
  const baseline = runs[0];
  const perMillion = (r: Run) => r.build.seconds.total / (r.events / 1e6);
  printTable(
    // Stages overlap (the users' lists are written beside the load, the model and the fits of
    // buy-again and the blend, which run in a worker), so they can add up to more than the build.
    [
      'data',
      'events',
      'users',
      'items',
      'import s',
      'load s',
      'model s',
      'popularity s',
      'buy-again fit s',
      'blend fit s',
      'publish s',
      'lifecycle s',
      'users s',
      'build s',
      'peak RSS MiB',
      's per 1M events',
      'time vs first',
    ],
    runs.map((r) => [
      r.label,
      r.events,
      r.users,
      r.items,
      r.importSeconds.toFixed(1),
      ...(['load', 'model', 'popularity', 'repeat', 'blend', 'publish', 'lifecycle', 'users', 'total'] as const).map((stage) => r.build.seconds[stage].toFixed(2)),
      r.build.peakRssMiB,
      perMillion(r).toFixed(1),
      `${(r.build.seconds.total / baseline.build.seconds.total).toFixed(1)}x`,
    ]),
  );
}
const big: BigRun[] = [];
const bigSizes = values.big!.split(',').filter(Boolean).map(Number);
if (bigSizes.length) {
  const shape = await measureShape();
  console.error(`  shape of the bundled sets: ${JSON.stringify(shape)}`);
  for (const events of bigSizes) big.push(await measureBig(events, shape, workers));
  printTable(
    [
      'data',
      'lines',
      'psql \\copy s',
      'import s',
      'vs \\copy',
      'import peak MiB',
      'users',
      'items',
      'load s',
      'PG COPY out alone s',
      'model s',
      'popularity s',
      'publish s',
      'users s',
      'build s',
      'build peak MiB',
    ],
    big.map((r) => [
      r.label,
      r.lines,
      r.copySeconds.toFixed(1),
      r.importSeconds.toFixed(1),
      `${((100 * r.copySeconds) / r.importSeconds).toFixed(0)}%`,
      r.importPeakRssMiB,
      r.build.users,
      r.build.items,
      r.build.seconds.load.toFixed(1),
      r.copyOutSeconds.toFixed(1),
      r.build.seconds.model.toFixed(1),
      r.build.seconds.popularity.toFixed(1),
      r.build.seconds.publish.toFixed(1),
      r.build.seconds.users.toFixed(1),
      r.build.seconds.total.toFixed(1),
      r.build.peakRssMiB,
    ]),
  );
}
await writeResults('bench-build', { workers, runs, big });
