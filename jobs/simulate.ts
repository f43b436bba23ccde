// CLI: replay the held-out tail of a real data set through the running API under an A/B test of
// the three email strategies (jobs/lib/simulate.ts says how), then print the experiment report.
//   npm run simulate -- [--dataset uci] [--cutoff 2011-10-01] [--sample N] [--max-visitors N]
//                       [--limit 6] [--views 5] [--concurrency 8]
// It uses a database of its own (recs_simulate) and the Redis prefix "simulate:", both emptied
// at the start of each run (runs are reproducible), so the demo's data is never touched. Writes results/simulate-<dataset>.json.
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { writeResults } from '../bench/report.ts';
import { freshDatabase } from '../src/store/pg/databases.ts';
import { loadConfig } from '../src/config.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { createRedis, deleteMatching } from '../src/store/redis/client.ts';
import { runCli } from './lib/cli.ts';
import { runSimulation } from './lib/simulate.ts';
import { DATASETS, type Dataset } from './lib/sources.ts';

const DATABASE = 'recs_simulate';
const REDIS_PREFIX = 'simulate:';
const EXPERIMENT = 'email-strategies';
// Where each bundled set's held-out tail starts (UCI: its last ~10 weeks, Oct 1 to Dec 9 2011).
const CUTOFFS: Partial<Record<Dataset, string>> = { uci: '2011-10-01' };
const USAGE = `usage: npm run simulate -- [--dataset ${DATASETS.join('|')}] [--cutoff DATE] [--sample N] [--max-visitors N] [--limit N] [--views N] [--concurrency N]`;

function positive(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number >= 1, got "${raw}"\n${USAGE}`);
  return value;
}

await runCli(async () => {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string', default: 'uci' },
      cutoff: { type: 'string' },
      sample: { type: 'string', default: '1' },
      'max-visitors': { type: 'string' },
      limit: { type: 'string', default: '6' },
      views: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '8' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return console.log(USAGE);
  const dataset = values.dataset as Dataset;
  if (!DATASETS.includes(dataset)) throw new Error(`unknown --dataset "${dataset}"\n${USAGE}`);
  const cutoffText = values.cutoff ?? CUTOFFS[dataset];
  const cutoff = new Date(`${cutoffText}T00:00:00Z`);
  if (!cutoffText || Number.isNaN(cutoff.getTime())) throw new Error(`--cutoff YYYY-MM-DD is needed for ${dataset}\n${USAGE}`);

  const databaseUrl = await freshDatabase(loadConfig().databaseUrl, DATABASE);
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, REDIS_PREFIX });
  const pool = createPool(databaseUrl, 8);
  const redis = createRedis(config.redisUrl);
  try {
    // A run must not see what an earlier one posted (its purchases are in the users' purchase lists).
    await deleteMatching(redis, `${REDIS_PREFIX}*`);
    console.log(`simulate: ${dataset}, train before ${cutoffText}, database ${DATABASE}, Redis prefix "${REDIS_PREFIX}"`);
    const result = await runSimulation({ pool, redis }, config, {
      dataset,
      cutoff,
      sampleEvery: positive(values.sample, 'sample'),
      maxVisitors: values['max-visitors'] ? positive(values['max-visitors'], 'max-visitors') : Infinity,
      limit: positive(values.limit, 'limit'),
      viewsPerVisitor: positive(values.views, 'views'),
      experimentId: EXPERIMENT,
      mailId: `simulated-${Date.now()}`,
      concurrency: positive(values.concurrency, 'concurrency'),
      log: (line) => console.log(`  ${line}`),
    });
    const s = result.seconds;
    console.log(
      `  replayed ${result.visitors.toLocaleString('en-US')} visitors (${result.newVisitors.toLocaleString('en-US')} with no purchase before the cut-off), ` +
        `${result.seededViews.toLocaleString('en-US')} views seeded; import ${s.import.toFixed(1)} s, build ${s.build.toFixed(1)} s, replay ${s.replay.toFixed(1)} s, total ${s.total.toFixed(1)} s\n`,
    );
    // The report exactly as the experiments CLI prints it.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'jobs/experiment.ts', 'report', EXPERIMENT], {
      cwd: new URL('../', import.meta.url).pathname,
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
    console.log(stdout.trimEnd());
    await writeResults(`simulate-${dataset}`, { dataset, cutoff: cutoffText, options: values, ...result });
  } finally {
    await Promise.allSettled([pool.end(), redis.quit()]);
  }
});
