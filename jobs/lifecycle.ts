// Customer lifecycle from a purchase file: per-customer summaries and RFM segments, a
// BG/NBD fit (who is still a customer, how many purchases to expect), a Gamma–Gamma fit
// (spend per purchase), and, when the file runs past the calibration end, a holdout check
// of the predictions. See docs/lifecycle.md.
//
//   npm run lifecycle -- --transactions purchases.csv.gz --calibration-end 2011-09-30 --unit week \
//     --out results/lifecycle.json --html results/lifecycle.html
//   npm run lifecycle -- --dataset uci --calibration-end 2011-06-30 --unit week --out results/uci.json
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { fitBgNbd, type BgNbdFit } from '../src/lifecycle/bgnbd.ts';
import { holdoutReportHtml } from '../src/lifecycle/chart.ts';
import { fitRepeatSpend, type GammaGammaFit, type SpendFit } from '../src/lifecycle/gamma-gamma.ts';
import { holdoutCheck, holdoutTable, type HoldoutCheck } from '../src/lifecycle/holdout.ts';
import { dayOf, isoDay, purchaseDays, repeatSpend, rftData, splitAtDay, UNIT_DAYS, type TimeUnit } from '../src/lifecycle/purchase-days.ts';
import { rfmScores, segmentCounts } from '../src/lifecycle/rfm.ts';
import { summarizeCustomers, type CustomerSummaries } from '../src/lifecycle/summary.ts';
import { customerValues } from '../src/lifecycle/value.ts';
import { runCli } from './lib/cli.ts';
import { fmt } from './lib/progress.ts';
import { readPurchases } from './lib/purchases.ts';
import { DATASETS, datasetSources, type Dataset, type SourceRef } from './lib/sources.ts';

const USAGE = `usage: npm run lifecycle -- (--transactions FILE | --dataset ${DATASETS.join('|')} [--data-dir DIR]) --calibration-end YYYY-MM-DD --unit day|week --out FILE.json [--html FILE.html] [--horizon N]
  --transactions FILE    events in the generic import format (CSV/TSV, .gz allowed); purchase rows count,
                         revenue = quantity × price
  --dataset NAME         a bundled data set instead, read with the import job's reader (from ../shared/data,
                         or --data-dir)
  --calibration-end DAY  last day (UTC, inclusive) of the period the models are fitted on; later purchases
                         are the holdout the predictions are checked against
  --unit day|week        time unit of the models (an order is a distinct day, or week, in the summaries)
  --out FILE             JSON results
  --html FILE            holdout chart and table as a standalone page (needs purchases after the calibration end)
  --horizon N            periods of the customer value figure (default 365 days or 52 weeks)`;
const SEE_USAGE = 'npm run lifecycle -- --help for the usage';

interface Options {
  /** The input as the report names it: the file's name or the data set's. */
  label: string;
  dataset: Dataset | null;
  sources: SourceRef[];
  calibrationEnd: string;
  lastCalibrationDay: number;
  unit: TimeUnit;
  out: string;
  html?: string;
  horizon: number;
}

/** The input: a generic-format file, or a bundled data set's event files (its catalog is not needed). */
function inputSources(transactions: string | undefined, dataset: string | undefined, dataDir: string | undefined): Pick<Options, 'label' | 'dataset' | 'sources'> {
  if (transactions !== undefined && dataset !== undefined) throw new Error('give --transactions FILE or --dataset NAME, not both');
  if (dataDir !== undefined && dataset === undefined) throw new Error('--data-dir goes with --dataset');
  if (transactions !== undefined) return { label: basename(transactions), dataset: null, sources: [{ format: 'generic-events', path: transactions, name: basename(transactions) }] };
  if (!(DATASETS as readonly string[]).includes(dataset!)) throw new Error(`--dataset must be one of ${DATASETS.join(', ')}, got "${dataset}"`);
  const sources = datasetSources(dataset as Dataset, dataDir?.replace(/\/?$/, '/')).filter((s) => !s.format.endsWith('products'));
  return { label: dataset!, dataset: dataset as Dataset, sources };
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      transactions: { type: 'string' },
      dataset: { type: 'string' },
      'data-dir': { type: 'string' },
      'calibration-end': { type: 'string' },
      unit: { type: 'string' },
      out: { type: 'string' },
      html: { type: 'string' },
      horizon: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return null;
  const missing = [
    ...(values.transactions === undefined && values.dataset === undefined ? ['--transactions FILE or --dataset NAME'] : []),
    ...['calibration-end', 'unit', 'out'].filter((k) => values[k as keyof typeof values] === undefined).map((k) => `--${k}`),
  ];
  if (missing.length) throw new Error(`missing ${missing.join(', ')} (${SEE_USAGE})`);
  const input = inputSources(values.transactions, values.dataset, values['data-dir']);
  const unit = values.unit!;
  if (!(unit in UNIT_DAYS)) throw new Error(`--unit must be day or week, got "${unit}"`);
  const calibrationEnd = values['calibration-end']!;
  const ms = Date.parse(`${calibrationEnd}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(calibrationEnd) || !Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== calibrationEnd) {
    throw new Error(`--calibration-end must be a date YYYY-MM-DD, got "${calibrationEnd}"`);
  }
  const horizon = values.horizon === undefined ? (unit === 'day' ? 365 : 52) : Number(values.horizon);
  if (!(horizon > 0)) throw new Error(`--horizon must be a number > 0, got "${values.horizon}"`);
  return {
    ...input,
    calibrationEnd,
    lastCalibrationDay: dayOf(ms / 1000),
    unit: unit as TimeUnit,
    out: values.out!,
    html: values.html,
    horizon,
  };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function summaryFigures(s: CustomerSummaries) {
  const n = s.orders.length;
  const revenue = s.revenue.reduce((a, b) => a + b, 0);
  const orders = s.orders.reduce((a, b) => a + b, 0);
  return {
    orders_per_customer: orders / n,
    revenue_total: revenue,
    average_order_value: revenue / orders,
    median_days_between_orders: median([...s.medianGapDays].filter((g) => !Number.isNaN(g))),
  };
}

// Below this mean dropout probability a/(a+b) the fit has run into the model's no-dropout limit.
const NO_DROPOUT = 1e-3;
// Above this |correlation| of frequency and spend, the Gamma–Gamma assumption is doubtful.
const SPEND_CORRELATION_WARNING = 0.3;

/** What a reader of the figures should know: convergence, degenerate fits, broken assumptions. */
function fitNotes(bg: BgNbdFit, spend: SpendFit): string[] {
  const notes: string[] = [];
  const dropout = bg.params.a / (bg.params.a + bg.params.b);
  if (!bg.converged && dropout < NO_DROPOUT) {
    notes.push(
      `BG/NBD: no dropout detectable (mean dropout probability a/(a+b) = ${dropout.toExponential(1)}): the likelihood keeps rising towards the no-dropout limit (the NBD model), so the fit stops short of a maximum; r and alpha are meaningful, a and b and their standard errors are not, and P(alive) is about 1 for everyone`,
    );
  } else if (!bg.converged) {
    notes.push('BG/NBD: the optimiser did not converge; treat the parameters with caution');
  }
  if (spend.correlation !== null && Math.abs(spend.correlation) > SPEND_CORRELATION_WARNING) {
    notes.push(`Gamma-Gamma: frequency and average spend correlate (${spend.correlation.toFixed(2)}); the model assumes they do not`);
  }
  if (spend.fit && spend.fit.params.q <= 1) notes.push('Gamma-Gamma: q ≤ 1, the population mean spend is infinite: no customer value');
  return notes;
}

function printFit(bg: BgNbdFit, gg: GammaGammaFit | null, unit: TimeUnit): void {
  const se = bg.standardErrors;
  const p = bg.params;
  const pm = (k: keyof typeof p) => `${p[k].toPrecision(4)}${se ? ` ± ${se[k].toPrecision(2)}` : ''}`;
  console.log(
    `BG/NBD (${unit}s): r = ${pm('r')}, alpha = ${pm('alpha')}, a = ${pm('a')}, b = ${pm('b')}; log-likelihood ${bg.logLikelihood.toFixed(1)}${bg.converged ? '' : ' (NOT converged)'}${se ? '' : ' (no standard errors: information not positive definite)'}`,
  );
  if (gg)
    console.log(
      `Gamma-Gamma: p = ${gg.params.p.toPrecision(4)}, q = ${gg.params.q.toPrecision(4)}, v = ${gg.params.v.toPrecision(4)}; mean spend per repeat purchase ${((gg.params.p * gg.params.v) / (gg.params.q - 1)).toFixed(2)}`,
    );
}

async function writeText(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  console.log(`wrote ${path}`);
}

async function main(): Promise<void> {
  const o = parseOptions();
  if (!o) {
    console.log(USAGE);
    return;
  }
  const { purchases, counts } = await readPurchases(o.sources);
  if (purchases.length === 0) throw new Error(`${o.label}: no purchase rows (type "purchase" with quantity > 0)`);
  const all = purchaseDays(purchases);
  const lastDay = all.day.reduce((a, b) => Math.max(a, b));
  const split = splitAtDay(all, o.lastCalibrationDay);
  const customers = split.calibration.userIds.length;
  if (customers === 0) throw new Error(`no purchases on or before --calibration-end ${o.calibrationEnd} (first purchase ${isoDay(all.day.reduce((a, b) => Math.min(a, b)))})`);
  console.log(`${fmt(all.userIds.length)} customers; ${fmt(customers)} bought by ${o.calibrationEnd}, ${fmt(split.newInHoldout)} first bought later`);

  const summaries = summarizeCustomers(split.calibration, o.unit);
  const rfm = rfmScores(summaries, o.lastCalibrationDay);
  const rft = rftData(split.calibration, o.lastCalibrationDay, o.unit);
  const repeatBuyers = rft.x.filter((x) => x > 0).length;
  // Without a single repeat purchase the likelihood has no maximum (it grows as r → 0).
  if (repeatBuyers === 0) throw new Error(`no customer bought on two different days by ${o.calibrationEnd}: nothing to fit the BG/NBD model on`);
  const started = performance.now();
  const bg = fitBgNbd(rft);
  const meanSpend = repeatSpend(split.calibration);
  const spend = fitRepeatSpend(rft, meanSpend);
  const fitSeconds = (performance.now() - started) / 1000;
  printFit(bg, spend.fit, o.unit);
  if (spend.reason) console.log(`Gamma-Gamma skipped: ${spend.reason}`);
  const notes = fitNotes(bg, spend);
  for (const note of notes) console.log(`note: ${note}`);
  const segments = segmentCounts(rfm.segment);
  console.log(
    `RFM segments: ${Object.entries(segments)
      .map(([s, n]) => `${s} ${fmt(n)}`)
      .join(', ')}`,
  );

  const values = spend.fit && spend.fit.params.q > 1 ? customerValues(bg.params, spend.fit.params, rft, meanSpend, o.horizon) : null;
  let holdout: HoldoutCheck | null = null;
  if (lastDay > o.lastCalibrationDay) {
    holdout = holdoutCheck(bg.params, rft, split.holdoutPurchases, (lastDay - o.lastCalibrationDay) / UNIT_DAYS[o.unit]);
    console.log(`\nHoldout ${isoDay(o.lastCalibrationDay + 1)} .. ${isoDay(lastDay)} (${holdout.length.toFixed(2)} ${o.unit}s), customers of the calibration period:\n${holdoutTable(holdout)}\n`);
  } else {
    console.log(`no purchases after ${o.calibrationEnd}: no holdout check`);
  }

  const result = {
    input: {
      dataset: o.dataset,
      files: o.sources.map((s) => s.path),
      rows: counts.rows,
      purchases: counts.purchases,
      purchases_without_price: counts.purchasesWithoutPrice,
      skipped: counts.skipped,
      rejected: counts.rejected,
      first_rejected: counts.firstRejected,
    },
    unit: o.unit,
    calibration: { first_day: isoDay(split.calibration.day.reduce((a, b) => Math.min(a, b))), end: o.calibrationEnd },
    customers: {
      in_file: all.userIds.length,
      calibration: customers,
      repeat_buyers: repeatBuyers,
      new_after_calibration: split.newInHoldout,
    },
    summary: summaryFigures(summaries),
    bgnbd: {
      ...bg.params,
      log_likelihood: bg.logLikelihood,
      standard_errors: bg.standardErrors,
      converged: bg.converged,
      iterations: bg.iterations,
      mean_dropout_probability: bg.params.a / (bg.params.a + bg.params.b),
    },
    gamma_gamma: spend.fit && {
      ...spend.fit.params,
      log_likelihood: spend.fit.logLikelihood,
      standard_errors: spend.fit.standardErrors,
      converged: spend.fit.converged,
      repeat_buyers: spend.buyers,
      frequency_spend_correlation: spend.correlation,
    },
    gamma_gamma_skipped: spend.reason,
    customer_value: values && {
      horizon: o.horizon,
      total: values.reduce((a, b) => a + b, 0),
      mean: values.reduce((a, b) => a + b, 0) / values.length,
      median: median([...values]),
    },
    rfm_segments: segments,
    holdout: holdout && {
      from: isoDay(o.lastCalibrationDay + 1),
      to: isoDay(lastDay),
      length: holdout.length,
      groups: holdout.groups,
      total: holdout.total,
    },
    notes,
    fit_seconds: fitSeconds,
  };
  await writeText(o.out, `${JSON.stringify(result, null, 2)}\n`);
  if (o.html && holdout) {
    await writeText(
      o.html,
      holdoutReportHtml(holdout, `Holdout check: ${o.label}`, [
        `BG/NBD fitted on purchases up to ${o.calibrationEnd} (${o.unit}s): r = ${bg.params.r.toPrecision(4)}, α = ${bg.params.alpha.toPrecision(4)}, a = ${bg.params.a.toPrecision(4)}, b = ${bg.params.b.toPrecision(4)}.`,
        `Holdout ${isoDay(o.lastCalibrationDay + 1)} .. ${isoDay(lastDay)}: repeat purchases (distinct days) per customer, grouped by repeat purchases in the calibration period.`,
      ]),
    );
  } else if (o.html) {
    console.error(`--html ${o.html} not written: no purchases after the calibration end to check against`);
  }
}

await runCli(main);
