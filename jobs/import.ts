// CLI: load a bundled data set or your own export into PostgreSQL. See docs/data-and-import.md.
//   npm run import -- --dataset uci [--tenant uci] [--prefix uci:]
//   npm run import -- --events my-events.csv [--products my-products.csv] [--name shop] [--encoding latin1]
import { checkTenantId, DEFAULT_TENANT } from '../src/tenant.ts';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/store/pg/migrate.ts';
import { describePartitionReport, maintainEventPartitions } from '../src/store/pg/partitions.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { runCli } from './lib/cli.ts';
import { importSource, type ImportSummary } from './lib/loader.ts';
import { fmt } from './lib/progress.ts';
import { DATASETS, datasetSources, openSource, type Dataset, type SourceRef } from './lib/sources.ts';

const USAGE = `usage: npm run import -- [--tenant ID] (--dataset ${DATASETS.join('|')} ... | --events FILE [--products FILE] [--name NAME]) [--prefix P] [--data-dir DIR] [--encoding utf8|latin1] [--json]`;

function printSummary(s: ImportSummary): void {
  const skipped = Object.entries(s.skipped)
    .map(([reason, n]) => `${fmt(n)} ${reason}`)
    .join('; ');
  console.log(
    `  ${s.source}: ${fmt(s.rowsRead)} rows read, ${fmt(s.eventsNew)} new events (of ${fmt(s.eventsRead)}), ` +
      `${fmt(s.productsUpserted)} products upserted, ${fmt(s.rejected)} rejected, ${s.seconds.toFixed(1)} s`,
  );
  if (skipped) console.log(`    skipped by the data set's rules: ${skipped}`);
  console.log(
    `    time: ${Object.entries(s.phases)
      .map(([phase, sec]) => `${phase} ${sec.toFixed(1)} s`)
      .join(', ')}`,
  );
  if (s.duplicateRows) console.log(`    ${fmt(s.duplicateRows)} rows repeat an earlier row exactly (loaded: each line is an event of its own)`);
  if (s.invalidUtf8.lines) {
    console.log(
      `    ${fmt(s.invalidUtf8.lines)} lines are not valid UTF-8 and were rejected (lines ${s.invalidUtf8.sample.join(', ')}${s.invalidUtf8.lines > s.invalidUtf8.sample.length ? ', ...' : ''}): ` +
        'if the file is Latin-1, import it again with --encoding latin1',
    );
  }
  for (const r of s.rejectedSample) console.log(`    rejected line ${r.line}: ${r.reason}`);
  if (s.rejected > s.rejectedSample.length) console.log(`    ... and ${fmt(s.rejected - s.rejectedSample.length)} more rejected rows`);
}

await runCli(async () => {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string', multiple: true },
      events: { type: 'string' },
      products: { type: 'string' },
      name: { type: 'string' },
      prefix: { type: 'string' },
      tenant: { type: 'string', default: DEFAULT_TENANT },
      'data-dir': { type: 'string' },
      encoding: { type: 'string', default: 'utf8' },
      json: { type: 'boolean' },
    },
  });
  const plan: SourceRef[] = [];
  for (const dataset of values.dataset ?? []) {
    if (!(DATASETS as readonly string[]).includes(dataset)) throw new Error(`unknown --dataset "${dataset}"\n${USAGE}`);
    plan.push(...datasetSources(dataset as Dataset, values['data-dir']?.replace(/\/?$/, '/')));
  }
  const name = values.name ?? (values.events ? basename(values.events).replace(/\.(csv|tsv|txt)(\.gz)?$/, '') : 'generic');
  if (values.products) plan.push({ format: 'generic-products', path: values.products, name: `${name}-products` });
  if (values.events) plan.push({ format: 'generic-events', path: values.events, name });
  if (plan.length === 0) throw new Error(USAGE);
  const encoding = values.encoding;
  if (encoding !== 'utf8' && encoding !== 'latin1') throw new Error(`--encoding must be utf8 or latin1, got "${encoding}"`);

  const config = loadConfig();
  const partitions = { retentionMonths: config.eventStore.eventsRetentionMonths, aheadMonths: config.eventStore.partitionsAheadMonths };
  const pool = createPool(config.databaseUrl, 2);
  try {
    await migrate(pool);
    // The same upkeep as the build's: months ahead, the default partition emptied, old months dropped.
    const upkeep = describePartitionReport(await maintainEventPartitions(pool, partitions));
    if (upkeep && !values.json) console.log(upkeep);
    const summaries: ImportSummary[] = [];
    for (const step of plan) {
      summaries.push(
        await importSource(pool, await openSource(step.format, step.path, step.name, encoding), { tenant: checkTenantId(values.tenant), idPrefix: values.prefix, quiet: values.json, partitions }),
      );
    }
    if (values.json) {
      console.log(JSON.stringify(summaries, null, 2));
      return;
    }
    console.log('import summary:');
    summaries.forEach(printSummary);
  } finally {
    await pool.end();
  }
});
