// Model fit time, in process: no database, no Redis, only the file read (or the
// synthetic generator) and then each model's fit, timed as the median of --repeat
// runs. Times are also given relative to the item-kNN cosine fit measured in the
// same run, so numbers from different machines compare, and, when python3 with
// numpy and scipy is there, relative to SAR's fit in numpy/scipy (bench/sar_baseline.py)
// run on the same interactions file in the same run.
//
//   npm run bench:fit -- --interactions uci.tsv
//   npm run bench:fit -- --dataset uci                  (writes .tmp/uci-events.tsv first)
//   npm run bench:fit -- --synthetic-ratings 75000 --items 1682 --users 943
//                                                       (MovieLens-100k-sized, .tmp/synthetic-ratings-*.tsv)
//   npm run bench:fit -- --synthetic 5000000 --synthetic-items 200000 --models itemknn:cosine
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { collectInteractions, type Interactions } from '../src/cf/interactions.ts';
import { fitItemKnn } from '../src/cf/item-knn.ts';
import { parseStrategy, type EvalStrategy } from '../src/eval/strategies.ts';
import { fitNeighbours, modelSpec, popularityLists, type ModelSpec } from '../src/model/model.ts';
import { Mt19937 } from '../src/eval/random.ts';
import { syntheticInteractions } from '../src/eval/synthetic.ts';
import { runCli } from '../jobs/lib/cli.ts';
import { readInteractionsFile } from '../jobs/lib/interactions-file.ts';
import { DATASETS, datasetSources, openSource, type Dataset } from '../jobs/lib/sources.ts';
import { runSarBaseline, type SarBaselineOutcome } from './lib/python.ts';

const BASELINE = 'itemknn:cosine';
const MODELS = ['popular', BASELINE, 'itemknn:jaccard', 'itemknn:lift', 'itemknn:llr', 'itemknn:cosine+weighted', 'sar', 'ease'];
const SAR_ROW = 'SAR numpy/scipy (baseline)';
const TMP = new URL('../.tmp/', import.meta.url).pathname;
const USAGE = `usage: npm run bench:fit -- (--interactions FILE | --dataset ${DATASETS.join('|')}
    | --synthetic-ratings N [--items 1682] [--users 943] | --synthetic EVENTS [--synthetic-items N])
    [--models LIST] [--repeat 3] [--python python3] [--sar-similarity jaccard|cosine|lift]`;
/** Star counts of MovieLens 100k (1..5), the shape of the synthetic ratings. */
const ML100K_STARS = [6110, 11370, 27145, 34174, 21201];

function positive(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a number > 0, got "${raw}"`);
  return value;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function tsvLine(fields: (string | number)[]): string {
  const text = fields.map(String);
  if (text.some((f) => /[\t\r\n]/.test(f))) throw new Error(`a field holds a tab or a line break: ${JSON.stringify(text)}`);
  return text.join('\t');
}

async function writeLines(path: string, lines: string[]): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${lines.join('\n')}\n`);
  console.log(`wrote ${path} (${lines.length - 1} events)`);
  return path;
}

/**
 * A MovieLens-shaped ratings file: the first `ratings` distinct (user, item) pairs of
 * the synthetic purchase generator (users and items drawn as it draws them), each with
 * 1-5 stars drawn with MovieLens 100k's shares (seeded), and the event's timestamp.
 */
async function writeSyntheticRatings(ratings: number, items: number, users: number): Promise<string> {
  for (let events = 2 * ratings; events <= 32 * ratings; events *= 2) {
    const x = syntheticInteractions({ events, items, users });
    const rng = new Mt19937(7);
    const total = ML100K_STARS.reduce((s, n) => s + n, 0);
    const seen = new Set<number>();
    const lines = [tsvLine(['user', 'item', 'rating', 'timestamp'])];
    for (let r = 0; r < x.users.length && seen.size < ratings; r++) {
      const pair = x.users[r] * items + x.items[r];
      if (seen.has(pair)) continue;
      seen.add(pair);
      let draw = rng.nextDouble() * total;
      let stars = 1;
      for (; stars < 5 && draw >= ML100K_STARS[stars - 1]; stars++) draw -= ML100K_STARS[stars - 1];
      lines.push(tsvLine([x.userIds[x.users[r]], x.itemIds[x.items[r]], stars, x.times[r]]));
    }
    if (seen.size === ratings) return writeLines(`${TMP}synthetic-ratings-${ratings}-${items}x${users}.tsv`, lines);
  }
  throw new Error(`--synthetic-ratings ${ratings}: too many for ${users} users × ${items} items`);
}

/** A bundled data set's events (read by the import job's readers) as an interactions file. */
async function writeDatasetFile(dataset: Dataset): Promise<string> {
  const lines = [tsvLine(['user', 'item', 'weight_or_type', 'timestamp'])];
  for (const { format, path, name } of datasetSources(dataset)) {
    for await (const row of (await openSource(format, path, name)).rows) {
      if (row.kind !== 'event') continue;
      const e = row.event;
      lines.push(tsvLine([e.user, e.item, e.weight ?? e.type, e.occurredAt.getTime() / 1000]));
    }
  }
  return writeLines(`${TMP}${dataset}-events.tsv`, lines);
}

/** Ours vs the baseline on the same similarity: pairs with a score > 0 and their sum (as SAR: all neighbours kept). */
function parityLine(x: Interactions, s: EvalStrategy, pairs: number, sum: number): string {
  const { spec } = s;
  const model = fitItemKnn(x, { similarity: spec.similarity, k: x.itemIds.length, minSupport: spec.minSupport });
  let ours = 0;
  for (const s of model.scores) ours += s;
  const same = model.neighbours.length === pairs && Math.abs(ours - sum) <= 1e-5 * Math.max(1, sum);
  return (
    `parity ${s.name} vs SAR numpy (${spec.similarity}): ${model.neighbours.length} vs ${pairs} item pairs, ` + `Σ similarity ${ours.toFixed(3)} vs ${sum.toFixed(3)}: ${same ? 'same' : 'DIFFERENT'}`
  );
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      interactions: { type: 'string' },
      dataset: { type: 'string' },
      synthetic: { type: 'string' },
      'synthetic-items': { type: 'string', default: '200000' },
      'synthetic-ratings': { type: 'string' },
      items: { type: 'string', default: '1682' },
      users: { type: 'string', default: '943' },
      models: { type: 'string', default: MODELS.join(',') },
      repeat: { type: 'string', default: '3' },
      neighbours: { type: 'string' },
      'ease-lambda': { type: 'string' },
      'ease-items': { type: 'string' },
      python: { type: 'string', default: 'python3' },
      'sar-similarity': { type: 'string', default: 'jaccard' },
      out: { type: 'string' },
    },
  });
  const sources = [a.interactions, a.dataset, a.synthetic, a['synthetic-ratings']].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new Error(USAGE);
  if (a.dataset !== undefined && !(DATASETS as readonly string[]).includes(a.dataset)) throw new Error(`--dataset must be one of ${DATASETS.join(', ')}`);
  if (!['jaccard', 'cosine', 'lift'].includes(a['sar-similarity']!)) throw new Error('--sar-similarity must be jaccard, cosine or lift');
  const config = loadConfig();
  const baseSpec: ModelSpec = {
    ...modelSpec(config),
    neighbours: a.neighbours ? positive(a.neighbours, 'neighbours') : config.build.neighbours,
    easeLambda: a['ease-lambda'] ? positive(a['ease-lambda'], 'ease-lambda') : config.build.easeLambda,
    easeMaxItems: a['ease-items'] ? positive(a['ease-items'], 'ease-items') : config.build.easeMaxItems,
  };
  const halfLifeDays = 30;
  const repeat = positive(a.repeat!, 'repeat');
  const names = a.models!.split(',').map((m) => m.trim());
  const specs = (names.includes(BASELINE) ? names : [BASELINE, ...names]).map((n) => parseStrategy(n, baseSpec, halfLifeDays));

  // Every source but --synthetic becomes a file, which both we and the numpy baseline read.
  const file =
    a['synthetic-ratings'] !== undefined
      ? await writeSyntheticRatings(positive(a['synthetic-ratings'], 'synthetic-ratings'), positive(a.items!, 'items'), positive(a.users!, 'users'))
      : a.dataset !== undefined
        ? await writeDatasetFile(a.dataset as Dataset)
        : a.interactions;
  let t0 = performance.now();
  const x: Interactions = file
    ? await collectInteractions(readInteractionsFile(file), config.eventWeights)
    : syntheticInteractions({ events: positive(a.synthetic!, 'synthetic'), items: positive(a['synthetic-items']!, 'synthetic-items') });
  const name = file
    ? basename(file)
        .replace(/(\.gz)?$/, '')
        .replace(/\.[^.]*$/, '')
    : `synthetic-${a.synthetic}`;
  console.log(`${name}: ${x.users.length} events, ${x.userIds.length} users, ${x.itemIds.length} items (read in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  // What the build fits for the strategy: popularity only, or the neighbour lists of its model.
  const fit = (s: EvalStrategy) => (s.strategy === 'popular' ? popularityLists(x, new Map(), s.spec) : fitNeighbours(x, s.spec));
  await fit(specs[0]); // warm-up: JIT-compile the shared code paths before timing
  const rows: { model: string; seconds: number; runs: number[]; ratio: number; vsSar: number | null; rssMiB: number }[] = [];
  for (const spec of specs) {
    const runs: number[] = [];
    for (let r = 0; r < repeat; r++) {
      t0 = performance.now();
      await fit(spec);
      runs.push((performance.now() - t0) / 1000);
    }
    rows.push({ model: spec.name, seconds: median(runs), runs, ratio: 0, vsSar: null, rssMiB: Math.round(process.resourceUsage().maxRSS / 1024) });
    console.error(`  ${spec.name}: ${runs.map((s) => s.toFixed(3)).join(', ')} s`);
  }

  // SAR's fit in numpy/scipy on the same file, after ours (never at the same time). Its
  // items×items similarity is dense (8·n² bytes, and temporaries): skip it where that cannot fit.
  const denseBytes = 3 * 8 * x.itemIds.length ** 2;
  let sar: SarBaselineOutcome = !file
    ? { ok: false, reason: 'it needs a file: use --synthetic-ratings, --dataset or --interactions' }
    : denseBytes > 0.7 * totalmem()
      ? { ok: false, reason: `its dense ${x.itemIds.length}² similarity would need ~${(denseBytes / 2 ** 30).toFixed(0)} GiB` }
      : await runSarBaseline(a.python!, file, {
          repeat,
          halfLifeDays,
          threshold: baseSpec.minSupport,
          similarity: a['sar-similarity']!,
          eventWeights: config.eventWeights,
        });
  if (sar.ok && (sar.result.rows !== x.users.length || sar.result.users !== x.userIds.length || sar.result.items !== x.itemIds.length)) {
    const { rows: n, users, items } = sar.result;
    sar = { ok: false, reason: `it read ${n} events, ${users} users, ${items} items where we read ${x.users.length}, ${x.userIds.length}, ${x.itemIds.length}` };
  }
  // Our fit starts from interactions indexed while reading, so the ratio is to SAR's fit
  // from indexed ids too (the stricter comparison); SAR's fit(df) also indexes the ids.
  const sarSeconds = sar.ok ? sar.result.fit_seconds_median_without_index : null;
  const base = rows.find((r) => r.model === BASELINE)!.seconds;
  for (const r of rows) {
    r.ratio = r.seconds / base;
    r.vsSar = sarSeconds === null ? null : r.seconds / sarSeconds;
  }
  if (sar.ok) {
    const s = sar.result;
    rows.push({ model: SAR_ROW, seconds: sarSeconds!, runs: s.fit_seconds_runs, ratio: sarSeconds! / base, vsSar: 1, rssMiB: s.peak_rss_mib });
  }

  const header = ['model', 'fit s (median)', `vs ${BASELINE}`, 'vs SAR numpy', 'peak RSS MiB'];
  const body = rows.map((r) => [r.model, r.seconds.toFixed(3), `${r.ratio.toFixed(2)}x`, r.vsSar === null ? '-' : `${r.vsSar.toFixed(2)}x`, String(r.rssMiB)]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(['', line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ''].join('\n'));
  if (sar.ok) {
    const s = sar.result;
    const stages = Object.entries(s.stage_seconds_median)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ');
    const env = Object.entries(s.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(
      `${SAR_ROW}: SAR's fit (${s.similarity}, half-life ${halfLifeDays} d, threshold ${baseSpec.minSupport}) in python ${s.python}, ` +
        `numpy ${s.numpy}, scipy ${s.scipy}${env ? `, ${env}` : ''}; dense similarity ${s.similarity_matrix_mib} MiB.`,
    );
    console.log(
      `  median stages (s): ${stages}. Its time above leaves out "index" (ours gets indexed ids from the read, too); ` +
        `with it, as SAR's fit(df): ${s.fit_seconds_median.toFixed(3)} s. "vs SAR numpy" = our time / its time (< 1: ours is faster).`,
    );
    const sarSpec = specs.find((spec) => spec.spec.untruncated && !spec.name.includes('+weighted') && spec.spec.similarity === s.similarity);
    if (sarSpec && s.similarity !== 'lift') console.log(parityLine(x, sarSpec, s.similarity_pairs, s.similarity_sum));
  } else {
    console.log(`note: no "${SAR_ROW}" row: ${sar.reason}.`);
  }

  const out = a.out ?? `results/fit-${name}.json`;
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify(
      {
        data: file ?? { synthetic: Number(a.synthetic), items: Number(a['synthetic-items']) },
        events: x.users.length,
        users: x.userIds.length,
        items: x.itemIds.length,
        node: process.version,
        cpus: cpus().length,
        params: { ...baseSpec, halfLifeDays },
        baseline: BASELINE,
        repeat,
        results: rows,
        sarNumpy: sar.ok ? sar.result : { skipped: sar.reason },
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${out} (peak RSS is cumulative over the run)`);
}

await runCli(main);
