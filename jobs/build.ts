// CLI: build the recommendation model from PostgreSQL and publish it into Redis.
//   npm run build-model -- [--model itemknn|ease] [--similarity cosine|jaccard|lift|llr|cooccurrence]
//                          [--neighbours 50] [--min-support 1] [--half-life-days 0] [--workers N] [--skip-users] [--wait] [--json]
//                          [--tenant ID] [--window-days N]
// --wait: when another build holds the lock, wait for it (up to an hour) instead of failing.
// Defaults come from the BUILD_* environment variables (src/config.ts). Events are read from
// BUILD_DATABASE_URL (a replica) when set; first, the events' month partitions are maintained on
// DATABASE_URL (EVENTS_RETENTION_MONTHS, EVENTS_PARTITIONS_AHEAD_MONTHS: src/store/pg/partitions.ts).
import { checkTenantId, DEFAULT_TENANT } from '../src/tenant.ts';
import { parseArgs } from 'node:util';
import { loadConfig, SIMILARITIES, type ModelKind, type Similarity } from '../src/config.ts';
import { migrate } from '../src/store/pg/migrate.ts';
import { describePartitionReport, maintainEventPartitions } from '../src/store/pg/partitions.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { createJobsRedis } from '../src/store/redis/client.ts';
import { buildModel, buildOptionsFromConfig, type BuildSummary } from './lib/build-model.ts';
import { describeBuyAgain, describeForYou } from '../src/model/describe.ts';
import { runCli } from './lib/cli.ts';
import { fmt } from './lib/progress.ts';

const WAIT_MS = 3_600_000;

function positive(name: string, raw: string | undefined, fallback: number, integer = true): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) throw new Error(`--${name} must be a ${integer ? 'whole ' : ''}number >= 0, got "${raw}"`);
  return value;
}

function printSummary(s: BuildSummary): void {
  const rows: [string, string][] = [
    ['model', s.model],
    ['version', `${s.version} (was ${s.previousVersion ?? 'none'})`],
    ['events', fmt(s.events)],
    ['users', fmt(s.users)],
    ['items with events', fmt(s.items)],
    ['catalog items', fmt(s.catalogItems)],
    ['neighbour pairs (non-zeros)', fmt(s.neighbourPairs)],
    ['model keys written', fmt(s.keysWritten)],
    ['user keys written', fmt(s.userKeysWritten)],
    ...Object.entries(s.seconds).map(([stage, sec]) => [`time ${stage}`, `${sec.toFixed(2)} s`] as [string, string]),
    ['peak RSS', `${fmt(s.peakRssMiB)} MiB`],
  ];
  console.log('build summary:');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(28)} ${v}`);
  // What buy-again and for-you learned (also GET /v1/models/current).
  const weights = (w: Record<string, number>) =>
    Object.entries(w)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ');
  if (s.repeat) {
    const b = describeBuyAgain(s.repeat);
    console.log(
      `  buy-again: occasion decay ${b.occasion_decay}, horizon ${b.horizon_days} days + ${b.horizon_visits} visits, min probability ${b.min_probability}\n    weights: ${weights(b.weights)}`,
    );
  }
  if (s.blend) console.log(`  for-you weights: ${weights(describeForYou(s.blend).weights)}`);
}

await runCli(async () => {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      similarity: { type: 'string' },
      neighbours: { type: 'string' },
      'min-support': { type: 'string' },
      'half-life-days': { type: 'string' },
      workers: { type: 'string' },
      'skip-users': { type: 'boolean' },
      wait: { type: 'boolean' },
      json: { type: 'boolean' },
      tenant: { type: 'string', default: DEFAULT_TENANT },
      'window-days': { type: 'string' },
    },
  });
  const config = loadConfig();
  const options = buildOptionsFromConfig(config);
  if (values.model !== undefined) {
    if (values.model !== 'itemknn' && values.model !== 'ease') throw new Error(`--model must be itemknn or ease, got "${values.model}"`);
    options.model = values.model as ModelKind;
  }
  if (values.similarity !== undefined) {
    if (!(SIMILARITIES as readonly string[]).includes(values.similarity)) throw new Error(`--similarity must be one of ${SIMILARITIES.join(', ')}`);
    options.similarity = values.similarity as Similarity;
  }
  options.neighbours = Math.max(1, positive('neighbours', values.neighbours, options.neighbours));
  options.minSupport = Math.max(1, positive('min-support', values['min-support'], options.minSupport));
  options.halfLifeDays = positive('half-life-days', values['half-life-days'], options.halfLifeDays, false);
  options.workers = Math.max(1, positive('workers', values.workers, options.workers));
  options.windowDays = positive('window-days', values['window-days'], options.windowDays, false);
  options.tenant = checkTenantId(values.tenant);
  options.syncUsers = !values['skip-users'];
  options.lockWaitMs = values.wait ? WAIT_MS : 0;
  options.quiet = Boolean(values.json);

  const pool = createPool(config.databaseUrl, 4);
  const readPool = config.eventStore.buildDatabaseUrl === config.databaseUrl ? pool : createPool(config.eventStore.buildDatabaseUrl, 4);
  const redis = createJobsRedis(config);
  try {
    await migrate(pool);
    const partitions = await maintainEventPartitions(pool, { retentionMonths: config.eventStore.eventsRetentionMonths, aheadMonths: config.eventStore.partitionsAheadMonths });
    const summary = await buildModel(pool, redis, config, { ...options, readPool });
    if (values.json) console.log(JSON.stringify({ ...summary, partitions }, null, 2));
    else {
      printSummary(summary);
      const done = describePartitionReport(partitions);
      if (done) console.log(done);
    }
  } finally {
    await Promise.allSettled([pool.end(), readPool === pool ? undefined : readPool.end(), redis.quit()]);
  }
});
