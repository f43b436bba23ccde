// Model fit time, in process: no database, no Redis, only the file read (or the
// synthetic generator) and then each model's fit, timed as the median of --repeat
// runs. Times are also given relative to the item-kNN cosine fit measured in the
// same run, so numbers from different machines compare.
//
//   npm run bench:fit -- --interactions uci.tsv
//   npm run bench:fit -- --synthetic 5000000 --synthetic-items 200000 --models itemknn:cosine
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { collectInteractions, latestTime, type Interactions } from '../src/cf/interactions.ts';
import { fitModel, parseModel, type ModelParams } from '../src/eval/models.ts';
import { syntheticInteractions } from '../src/eval/synthetic.ts';
import { runCli } from '../jobs/lib/cli.ts';
import { readInteractionsFile } from '../jobs/lib/interactions-file.ts';

const BASELINE = 'itemknn:cosine';
const MODELS = ['popular', BASELINE, 'itemknn:jaccard', 'itemknn:lift', 'itemknn:llr', 'itemknn:cosine+weighted', 'sar', 'ease'];

function positive(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a number > 0, got "${raw}"`);
  return value;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      interactions: { type: 'string' },
      synthetic: { type: 'string' },
      'synthetic-items': { type: 'string', default: '200000' },
      models: { type: 'string', default: MODELS.join(',') },
      repeat: { type: 'string', default: '3' },
      neighbours: { type: 'string' },
      'ease-lambda': { type: 'string' },
      'ease-items': { type: 'string' },
      out: { type: 'string' },
    },
  });
  if ((a.interactions === undefined) === (a.synthetic === undefined)) {
    throw new Error('usage: npm run bench:fit -- (--interactions FILE | --synthetic EVENTS [--synthetic-items N]) [--models LIST] [--repeat 3]');
  }
  const config = loadConfig();
  const params: ModelParams = {
    neighbours: a.neighbours ? positive(a.neighbours, 'neighbours') : config.build.neighbours,
    minSupport: config.build.minSupport,
    halfLifeDays: 30,
    easeLambda: a['ease-lambda'] ? positive(a['ease-lambda'], 'ease-lambda') : config.build.easeLambda,
    easeItems: a['ease-items'] ? positive(a['ease-items'], 'ease-items') : config.build.easeMaxItems,
  };
  const repeat = positive(a.repeat!, 'repeat');
  const names = a.models!.split(',').map((m) => m.trim());
  const specs = (names.includes(BASELINE) ? names : [BASELINE, ...names]).map(parseModel);

  let t0 = performance.now();
  const x: Interactions = a.interactions
    ? await collectInteractions(readInteractionsFile(a.interactions), config.eventWeights)
    : syntheticInteractions({ events: positive(a.synthetic!, 'synthetic'), items: positive(a['synthetic-items']!, 'synthetic-items') });
  const name = a.interactions ? basename(a.interactions).replace(/(\.gz)?$/, '').replace(/\.[^.]*$/, '') : `synthetic-${a.synthetic}`;
  console.log(`${name}: ${x.users.length} events, ${x.userIds.length} users, ${x.itemIds.length} items (read in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const now = latestTime(x);
  fitModel(specs[0], x, now, params); // warm-up: JIT-compile the shared code paths before timing
  const rows: { model: string; seconds: number; runs: number[]; ratio: number; rssMiB: number }[] = [];
  for (const spec of specs) {
    const runs: number[] = [];
    for (let r = 0; r < repeat; r++) {
      t0 = performance.now();
      fitModel(spec, x, now, params);
      runs.push((performance.now() - t0) / 1000);
    }
    rows.push({ model: spec.name, seconds: median(runs), runs, ratio: 0, rssMiB: Math.round(process.resourceUsage().maxRSS / 1024) });
    console.error(`  ${spec.name}: ${runs.map((s) => s.toFixed(3)).join(', ')} s`);
  }
  const base = rows.find((r) => r.model === BASELINE)!.seconds;
  for (const r of rows) r.ratio = r.seconds / base;

  const header = ['model', 'fit s (median)', `vs ${BASELINE}`, 'peak RSS MiB'];
  const body = rows.map((r) => [r.model, r.seconds.toFixed(3), `${r.ratio.toFixed(2)}x`, String(r.rssMiB)]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(['', line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ''].join('\n'));

  const out = a.out ?? `results/fit-${name}.json`;
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({
    data: a.interactions ?? { synthetic: Number(a.synthetic), items: Number(a['synthetic-items']) },
    events: x.users.length, users: x.userIds.length, items: x.itemIds.length,
    node: process.version, cpus: (await import('node:os')).cpus().length,
    params, baseline: BASELINE, repeat, results: rows,
  }, null, 2)}\n`);
  console.log(`wrote ${out} (peak RSS is cumulative over the run)`);
}

await runCli(main);
