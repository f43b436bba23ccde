// Build-job scaling benchmark: import + build + publish at growing data sizes, each in a fresh
// database and Redis prefix, the build in its own process so its peak RSS is its own.
//   npm run bench:build -- [--fractions 10,25,50,100] [--synthetic 5000000] [--synthetic-items 200000] [--workers N]
// Sizes: user-samples of UCI Online Retail (the largest bundled purchase set), then a synthetic
// scale-up drawn from its distributions. Prints a table and writes results/bench-build.json.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { parseArgs, promisify } from 'node:util';
import type { BuildSummary } from '../jobs/lib/build-model.ts';
import { importSource } from '../jobs/lib/loader.ts';
import { datasetSources, openSource, type EventRecord } from '../jobs/lib/sources.ts';
import { loadConfig } from '../src/config.ts';
import { freshDatabase } from '../src/store/pg/databases.ts';
import { migrate } from '../src/store/pg/migrate.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { createRedis, deleteMatching } from '../src/store/redis/client.ts';
import { syntheticInteractions } from '../src/eval/synthetic.ts';
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
    cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_PREFIX: prefix }, maxBuffer: 1 << 24,
  });
  const build = JSON.parse(stdout) as BuildSummary;
  const redis = createRedis(config.redisUrl);
  await deleteMatching(redis, `${prefix}*`);
  await redis.quit();
  console.error(`  ${label}: ${written.toLocaleString('en-US')} events, build ${build.seconds.total.toFixed(2)} s, peak ${build.peakRssMiB} MiB`);
  return { label, events: build.events, users: build.users, items: build.items, importSeconds, build };
}

const { values } = parseArgs({
  options: {
    fractions: { type: 'string', default: '10,25,50,100' },
    synthetic: { type: 'string', default: '5000000' },
    'synthetic-items': { type: 'string', default: '200000' },
    workers: { type: 'string', default: String(loadConfig().build.workers) },
  },
});
await mkdir(TMP, { recursive: true });
const workers = Number(values.workers);
const runs: Run[] = [];
for (const percent of values.fractions!.split(',').map(Number)) {
  runs.push(await measure(`uci ${percent}%`, uciSample(percent), workers));
}
const syntheticEvents = Number(values.synthetic);
if (syntheticEvents > 0) {
  runs.push(await measure(`synthetic ${syntheticEvents / 1e6}M`, synthetic(syntheticEvents, Number(values['synthetic-items'])), workers));
}
const baseline = runs[0];
const perMillion = (r: Run) => r.build.seconds.total / (r.events / 1e6);
printTable(
  ['data', 'events', 'users', 'items', 'import s', 'load s', 'model s', 'publish s', 'users s', 'build s', 'peak RSS MiB', 's per 1M events', 'time vs first'],
  runs.map((r) => [
    r.label, r.events, r.users, r.items, r.importSeconds.toFixed(1), r.build.seconds.load.toFixed(2), r.build.seconds.model.toFixed(2),
    r.build.seconds.publish.toFixed(2), r.build.seconds.users.toFixed(2), r.build.seconds.total.toFixed(2), r.build.peakRssMiB,
    perMillion(r).toFixed(1), `${(r.build.seconds.total / baseline.build.seconds.total).toFixed(1)}x`,
  ]),
);
await writeResults('bench-build', { workers, runs });
