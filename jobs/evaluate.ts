// Offline evaluation: split interactions into train and test, fit each strategy's model on
// train with the build's own entry (src/model/model.ts), answer each user with the API's own
// recommend() over that model held in memory (src/eval/strategies.ts), and report Microsoft
// Recommenders' ranking metrics per strategy, with the standard error of nDCG.
//
//   npm run evaluate -- --interactions ratings.tsv --split stratified --models popular,sar,ease
//   npm run evaluate -- --train a.csv --test b.csv --k 10 --products products.csv
//   npm run evaluate -- --dataset uci --split time
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { addRecords, InteractionsBuilder, selectRows, type InteractionRecord, type Interactions } from '../src/cf/interactions.ts';
import { evalSet, evaluate, ownItemShare, type ModelResult } from '../src/eval/protocol.ts';
import { BASELINES, baselineRecommender, type Baseline } from '../src/eval/baselines.ts';
import { parseStrategy, servedRecommender, type EvalStrategy } from '../src/eval/strategies.ts';
import { blendTrainingSet, fitForYou, fitRepeat } from '../src/model/repeat.ts';
import { blendNdcg, candidateReach, fitBlend } from '../src/cf/repeat/blend-fit.ts';
import { catalogFields, fitModel, modelSpec, type ModelData, type ModelSpec } from '../src/model/model.ts';
import { recOptions } from '../src/recommend/request.ts';
import type { CatalogFields } from '../src/recommend/types.ts';
import { fitItemKnnParallel } from './lib/parallel-knn.ts';
import { chronoSplit, cutoffSplit, lastBasketSplit, stratifiedSplit, type Split } from '../src/eval/split.ts';
import { EASE_LAMBDA_GRID, tuneEaseLambda } from '../src/eval/tune.ts';
import { runCli } from './lib/cli.ts';
import { columnIndex, openCsv } from './lib/csv.ts';
import { readInteractionsFile } from './lib/interactions-file.ts';
import { DATASETS, datasetSources, openSource, type Dataset } from './lib/sources.ts';
import { parseTimestamp } from './lib/timestamps.ts';

const USAGE = `usage: npm run evaluate -- (--interactions FILE | --dataset ${DATASETS.join('|')} [--split stratified|time|cutoff] | --train FILE --test FILE) [options]
  --dataset NAME       a bundled data set, read with the import job's reader (its brands feed same-brand)
  --min-item-rows N    drop items with fewer than N rows before splitting (default 1)
  --split stratified   per user, a random --ratio (0.75) of rows to train (MSR python_stratified_split, --seed 42)
  --split time         per user, the latest 1 - --ratio (0.8) of rows to test (MSR python_chrono_split); the default
  --split cutoff       rows before --cutoff (date or unix seconds) to train, the rest to test
  --split last-basket  each user's last basket (their latest timestamp) to test, as next-basket benchmarks
  --min-rating N       drop users with fewer than N rows before splitting (default 1)
  --k N                cut-off of the metrics (default 10)
  --models LIST        comma-separated strategies, each answered as the API answers it (seeds, exclusions,
                       fallback chain): popular, recently-viewed, same-brand, buy-again, for-you (over the
                       build's model; buy-again's parameters and the for-you blend fit on a validation split
                       of train), the baselines p-topfreq and gp-topfreq (Li et al. 2023) and tifu-knn
                       (Hu et al. 2020, its parameters fit on a validation split of train), or
                       collaborative over itemknn:<similarity>, sar[:<similarity>], ease; flags: +decay,
                       +weighted (default: a comparison of all)
  --neighbours N       neighbours kept per item (default: BUILD_NEIGHBOURS, 50)
  --min-support N      minimum co-occurring users of a pair (default: BUILD_MIN_SUPPORT, 1)
  --half-life-days D   time decay of +decay models and sar (default 30, SAR's)
  --ease-lambda L      EASE regularisation, or "auto" (default): the best of ${EASE_LAMBDA_GRID.join(', ')}
                       on a validation split of train made like the test split
  --ease-items N       EASE item cap (default: BUILD_EASE_MAX_ITEMS)
  --products FILE      CSV with a header naming an id column (id|product_id|item_id) and --brand-column (brand)
  --exclude-brands L   brands same-brand ignores (e.g. a private label)
  --repeats            allow recommending the user's own train items (buy again); default: excluded, as MSR
  --blend-ceiling      with --repeats and for-you: also fit for-you's blend weights on the test itself, the
                       best any weights reach on its generators' candidates, beside the weights fit on train;
                       and say what the candidates hold (per user, their share of the test's items, their nDCG
                       if ranked perfectly) and the share of the test's items bought before
  --out FILE           JSON results (default results/eval-<name>.json)`;

const OPTIONS = {
  interactions: { type: 'string' },
  dataset: { type: 'string' },
  'min-item-rows': { type: 'string', default: '1' },
  train: { type: 'string' },
  test: { type: 'string' },
  split: { type: 'string', default: 'time' },
  ratio: { type: 'string' },
  seed: { type: 'string', default: '42' },
  cutoff: { type: 'string' },
  'min-rating': { type: 'string', default: '1' },
  k: { type: 'string', default: '10' },
  models: { type: 'string' },
  neighbours: { type: 'string' },
  'min-support': { type: 'string' },
  'half-life-days': { type: 'string', default: '30' },
  'ease-lambda': { type: 'string', default: 'auto' },
  'ease-items': { type: 'string' },
  products: { type: 'string' },
  'brand-column': { type: 'string', default: 'brand' },
  'exclude-brands': { type: 'string' },
  repeats: { type: 'boolean', default: false },
  'blend-ceiling': { type: 'boolean', default: false },
  out: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

type Args = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

function number(raw: string, name: string, integer = false): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a${integer ? ' whole' : ''} number >= 0, got "${raw}"`);
  }
  return value;
}

/**
 * The seam for other sources (e.g. the bundled data sets' import readers): any
 * stream of records becomes train+test here. With two streams, the first is train.
 */
async function load(sources: AsyncIterable<InteractionRecord>[], eventWeights: ReturnType<typeof loadConfig>['eventWeights']): Promise<{ all: Interactions; firstCount: number }> {
  const builder = new InteractionsBuilder();
  let firstCount = 0;
  for (const [i, records] of sources.entries()) {
    const added = await addRecords(builder, records, eventWeights);
    if (i === 0) firstCount = added;
  }
  return { all: builder.build(), firstCount };
}

/** A bundled data set's events as records; its products go into `catalog` (as an import stores them). */
async function* datasetRecords(dataset: Dataset, catalog: Map<string, CatalogFields>): AsyncIterable<InteractionRecord> {
  for (const { format, path, name } of datasetSources(dataset)) {
    for await (const row of (await openSource(format, path, name)).rows) {
      if (row.kind === 'product') catalog.set(row.product.id, row.product);
      if (row.kind !== 'event') continue;
      const e = row.event;
      yield { user: e.user, item: e.item, type: e.type, weight: e.weight ?? undefined, ts: e.occurredAt.getTime() / 1000 };
    }
  }
}

/** The rows of items seen at least `min` times (sparse items only add noise to an evaluation). */
function frequentItemRows(x: Interactions, min: number): Uint32Array {
  const counts = new Uint32Array(x.itemIds.length);
  for (const item of x.items) counts[item]++;
  const rows: number[] = [];
  x.items.forEach((item, r) => {
    if (counts[item] >= min) rows.push(r);
  });
  return Uint32Array.from(rows);
}

function split(a: Args, all: Interactions, inner = false): Split {
  const minRating = inner ? 1 : number(a['min-rating'], 'min-rating', true);
  // Validation inside train: a cut-off would leave no test, so it becomes a per-user time split.
  switch (inner && a.split === 'cutoff' ? 'time' : a.split) {
    case 'stratified':
      return stratifiedSplit(all, { ratio: a.ratio ? number(a.ratio, 'ratio') : 0.75, seed: number(a.seed, 'seed', true), minRating });
    case 'time':
      return chronoSplit(all, { ratio: a.ratio ? number(a.ratio, 'ratio') : 0.8, minRating });
    case 'last-basket':
      return lastBasketSplit(all);
    case 'cutoff': {
      // A bare date means its midnight UTC.
      const cutoff = a.cutoff === undefined ? null : parseTimestamp(a.cutoff.replace(/^(\d{4}-\d{2}-\d{2})$/, '$1 00:00:00'));
      if (cutoff === null) throw new Error('--split cutoff needs --cutoff DATE (ISO date or unix seconds)');
      return cutoffSplit(all, cutoff.getTime() / 1000);
    }
    default:
      throw new Error(`--split must be stratified, time, cutoff or last-basket, got "${a.split}"`);
  }
}

/** item → brand from a catalog CSV (header with an id column and `column`), brands in `excluded` left out. */
async function readBrands(path: string, column: string, excluded: Set<string>): Promise<Map<string, string>> {
  const csv = await openCsv(path);
  const id = columnIndex(csv.header, 'id', 'product_id', 'item_id', 'item');
  const brand = columnIndex(csv.header, column);
  if (id < 0 || brand < 0) throw new Error(`${path}: the header needs an id column (id|product_id|item_id) and "${column}"`);
  const brands = new Map<string, string>();
  for await (const { fields } of csv.rows) {
    const [item, b] = [fields[id]?.trim(), fields[brand]?.trim()];
    if (item && b && !excluded.has(b)) brands.set(item, b);
  }
  return brands;
}

function defaultModels(a: Args): string[] {
  return [
    'popular',
    ...(a.repeats ? ['recently-viewed', 'p-topfreq', 'gp-topfreq', 'tifu-knn', 'buy-again'] : []),
    'for-you',
    ...(a.products ? ['same-brand'] : []),
    'itemknn:cosine',
    'itemknn:jaccard',
    'itemknn:lift',
    'itemknn:llr',
    'itemknn:cosine+decay',
    'sar',
    'ease',
  ];
}

function table(rows: (ModelResult & { model: string; fitSeconds: number })[], k: number): string {
  const header = ['model', `precision@${k}`, `recall@${k}`, `ndcg@${k}`, '± se', 'map', `map@${k}`, `hit@${k}`, 'coverage', 'fit s'];
  const body = rows.map((r) => [r.model, ...[r.precision, r.recall, r.ndcg, r.ndcgSe, r.map, r.mapAtK, r.hitRate, r.coverage].map((v) => v.toFixed(4)), r.fitSeconds.toFixed(2)]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const a: Args = parseArgs({ options: OPTIONS }).values;
  if (a.help) return console.log(USAGE);
  const config = loadConfig();
  const paired = a.train !== undefined || a.test !== undefined;
  if ([paired, a.interactions !== undefined, a.dataset !== undefined].filter(Boolean).length !== 1 || (paired && !(a.train && a.test))) {
    throw new Error(`give --interactions FILE, --dataset NAME, or --train FILE and --test FILE\n${USAGE}`);
  }
  if (a.dataset !== undefined && !(DATASETS as readonly string[]).includes(a.dataset)) throw new Error(`--dataset must be one of ${DATASETS.join(', ')}`);
  const files = paired ? [a.train!, a.test!] : a.dataset ? [a.dataset] : [a.interactions!];
  const k = number(a.k, 'k', true);
  const base: ModelSpec = {
    ...modelSpec(config),
    neighbours: a.neighbours ? number(a.neighbours, 'neighbours', true) : config.build.neighbours,
    minSupport: a['min-support'] ? number(a['min-support'], 'min-support', true) : config.build.minSupport,
    easeLambda: a['ease-lambda'] === 'auto' ? NaN : number(a['ease-lambda'], 'ease-lambda'),
    easeMaxItems: a['ease-items'] ? number(a['ease-items'], 'ease-items', true) : config.build.easeMaxItems,
  };
  const halfLifeDays = number(a['half-life-days'], 'half-life-days');
  const excludedBrands = new Set(a['exclude-brands']?.split(',') ?? []);
  const specs = (a.models ? a.models.split(',') : defaultModels(a)).map((m) =>
    (BASELINES as readonly string[]).includes(m.trim()) ? { name: m.trim(), strategy: 'popular' as const, spec: base } : parseStrategy(m, base, halfLifeDays),
  );
  if (a['blend-ceiling'] && !(a.repeats && specs.some((s) => s.strategy === 'for-you'))) throw new Error('--blend-ceiling needs --repeats and for-you among the models');
  const brands = a.products ? await readBrands(a.products, a['brand-column'], excludedBrands) : undefined;

  let t0 = performance.now();
  // The catalog the served blocks read: a data set's products, or what --products says (brands).
  const datasetCatalog = new Map<string, CatalogFields>();
  const sources = a.dataset ? [datasetRecords(a.dataset as Dataset, datasetCatalog)] : files.map(readInteractionsFile);
  const loaded = await load(sources, config.eventWeights);
  const minItemRows = number(a['min-item-rows'], 'min-item-rows', true);
  const all = minItemRows > 1 && !paired ? selectRows(loaded.all, frequentItemRows(loaded.all, minItemRows)) : loaded.all;
  const firstCount = loaded.firstCount;
  const catalog = new Map<string, CatalogFields>([...datasetCatalog].map(([id, p]) => [id, { ...p, brand: p.brand !== null && excludedBrands.has(p.brand) ? null : p.brand }]));
  for (const [id, brand] of brands ?? []) catalog.set(id, { ...(catalog.get(id) ?? catalogFields(id, undefined)), brand });
  if (!a.models && !a.products && [...catalog.values()].some((p) => p.brand !== null)) specs.splice(1, 0, parseStrategy('same-brand', base, halfLifeDays));
  const rows = paired ? { train: Uint32Array.from({ length: firstCount }, (_, r) => r), test: Uint32Array.from({ length: all.users.length - firstCount }, (_, r) => firstCount + r) } : split(a, all);
  const train = selectRows(all, rows.train);
  const set = evalSet(train, selectRows(all, rows.test), { repeats: a.repeats });
  const name = basename(files[0])
    .replace(/(\.gz)?$/, '')
    .replace(/\.[^.]*$/, '');
  console.log(
    `${name}: ${all.users.length} events, ${all.userIds.length} users, ${all.itemIds.length} items; ` +
      `split ${paired ? 'given' : a.split}: ${rows.train.length} train / ${rows.test.length} test rows, ` +
      `${set.users.length} users evaluated (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  );

  const options = recOptions(config);
  // The build's fitting entry, its item-kNN on worker_threads; a model is fit once per spec.
  const fitted = new Map<string, Promise<ModelData>>();
  const fit = (x: Interactions, spec: ModelSpec) => fitModel(x, catalog, spec, (ids, input, knn) => fitItemKnnParallel(ids, input, knn, config.build.workers));
  const results: (ModelResult & { model: string; fitSeconds: number; recommendSeconds: number; lambda?: number })[] = [];
  // Validation inside train, split as the test was (a given pair with repeats: its last basket).
  const splitTrain = paired ? (x: Interactions) => (a.repeats ? lastBasketSplit(x) : stratifiedSplit(x)) : (x: Interactions) => split(a, x, true);
  const fitKey = (s: EvalStrategy) => JSON.stringify([s.spec, s.strategy === 'buy-again' || s.strategy === 'for-you' ? s.strategy : null]);
  const fitFor = async (s: EvalStrategy): Promise<ModelData> => {
    const data = await fit(train, s.spec);
    if (s.strategy === 'buy-again' || s.strategy === 'for-you') data.repeat = fitRepeat(train, splitTrain, k);
    if (s.strategy === 'for-you') data.blend = await fitForYou({ x: train, catalog, spec: s.spec, repeat: data.repeat?.model, split: splitTrain, options }, k);
    return data;
  };
  for (const s of specs) {
    if (s.spec.model === 'ease' && Number.isNaN(s.spec.easeLambda)) {
      t0 = performance.now();
      const tuned = await tuneEaseLambda(s, train, splitTrain, fit, options, k, { repeats: a.repeats });
      s.spec = { ...s.spec, easeLambda: tuned.best };
      const tried = tuned.tried.map((t) => `${t.value}: ${t.ndcg.toFixed(4)}`).join(', ');
      console.error(`  ${s.name}: λ = ${tuned.best} by validation nDCG@${k} (${tried}; ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    t0 = performance.now();
    const key = fitKey(s);
    if (!fitted.has(key)) fitted.set(key, fitFor(s));
    const data = await fitted.get(key)!;
    const baseline = (BASELINES as readonly string[]).includes(s.name) ? baselineRecommender(s.name as Baseline, { popular: data.popular, train, split: splitTrain, k, repeats: a.repeats }) : null;
    if (baseline?.fit) console.error(`  ${s.name}: ${JSON.stringify(baseline.fit.params)} by validation nDCG@${k} ${baseline.fit.ndcg.toFixed(4)}`);
    const fitSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const metrics = await evaluate(set, baseline?.recommend ?? servedRecommender(data, s.strategy, options), k);
    const lambda = s.spec.model === 'ease' ? s.spec.easeLambda : undefined;
    results.push({ model: s.name + (lambda === undefined ? '' : ` λ=${lambda}`), ...metrics, fitSeconds, recommendSeconds: (performance.now() - t0) / 1000, lambda });
    console.error(`  ${s.name}: fit ${fitSeconds.toFixed(2)} s, recommend ${results.at(-1)!.recommendSeconds.toFixed(2)} s`);
  }
  console.log(`\n${table(results, k)}\n`);
  let blendCeiling: { users: number; ndcg: number; trainWeightsNdcg: number; candidatesPerUser: number; candidateRecall: number; perfectNdcg: number; boughtBefore: number } | undefined;
  if (a['blend-ceiling']) {
    // The evaluated users' candidates as served, labelled by their test: how far any weights go.
    const s = specs.find((m) => m.strategy === 'for-you')!;
    const data = await fitted.get(fitKey(s))!;
    const examples = await blendTrainingSet({ x: all, catalog, spec: s.spec, repeat: data.repeat?.model, split: () => rows, options }, k, Infinity);
    if (examples !== undefined && data.blend !== undefined) {
      const reach = candidateReach(examples, k);
      blendCeiling = {
        users: examples.groups.relevant.length,
        ndcg: fitBlend(examples, { k }).ndcg,
        trainWeightsNdcg: blendNdcg(examples, data.blend.weights, k),
        candidatesPerUser: reach.perUser,
        candidateRecall: reach.recall,
        perfectNdcg: reach.perfectNdcg,
        boughtBefore: ownItemShare(set.users),
      };
      const percent = (v: number) => `${(100 * v).toFixed(1)}%`;
      console.log(
        `for-you's blend on the test's ${blendCeiling.users} users' candidates, nDCG@${k}: ${blendCeiling.trainWeightsNdcg.toFixed(4)} with the weights fit on train, ` +
          `${blendCeiling.ndcg.toFixed(4)} with weights fit on the test itself (the ceiling of these generators)\n` +
          `their candidates: ${blendCeiling.candidatesPerUser.toFixed(1)} per user, holding ${percent(blendCeiling.candidateRecall)} of the test's items ` +
          `(nDCG@${k} ${blendCeiling.perfectNdcg.toFixed(4)} if ranked perfectly); ${percent(blendCeiling.boughtBefore)} of the test's items had been bought before\n`,
      );
    }
  }

  const out = a.out ?? `results/eval-${name}.json`;
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify(
      {
        data: files,
        events: all.users.length,
        users: all.userIds.length,
        items: all.itemIds.length,
        split: paired ? { kind: 'given' } : { kind: a.split, ratio: a.ratio, seed: a.split === 'stratified' ? Number(a.seed) : undefined, cutoff: a.cutoff, minRating: Number(a['min-rating']) },
        trainRows: rows.train.length,
        testRows: rows.test.length,
        evaluatedUsers: set.users.length,
        repeats: a.repeats,
        k,
        model: { ...base, easeLambda: a['ease-lambda'], halfLifeDays },
        catalogItems: catalog.size,
        results,
        blendCeiling,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${out}`);
}

await runCli(main);
