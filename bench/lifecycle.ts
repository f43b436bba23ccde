// Customer-lifecycle timings, in process: the BG/NBD fit on simulated customers (target:
// 100,000 in under 30 s on the 2-core VM) and their predictions; on UCI Online Retail,
// purchase days, summaries and RFM, and the BG/NBD and Gamma–Gamma fits on real data.
// Each stage is timed as the median of --repeat runs after one warm-up run.
//
//   npx tsx bench/lifecycle.ts [--customers 100000] [--repeat 3] [--data-dir DIR] [--out FILE]
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { expectedPurchasesOf, fitBgNbd, probabilityAlive, type BgNbdParams } from '../src/lifecycle/bgnbd.ts';
import { fitGammaGamma } from '../src/lifecycle/gamma-gamma.ts';
import { dayOf, purchaseDays, repeatSpend, rftData, splitAtDay } from '../src/lifecycle/purchase-days.ts';
import { rfmScores } from '../src/lifecycle/rfm.ts';
import { simulateBgNbd } from '../src/lifecycle/simulate.ts';
import { summarizeCustomers } from '../src/lifecycle/summary.ts';
import { runCli } from '../jobs/lib/cli.ts';
import { readPurchases } from '../jobs/lib/purchases.ts';
import { datasetSources } from '../jobs/lib/sources.ts';
import { cpuSnapshot, otherLoad } from './lib/host.ts';

// CDNOW's published fit, in weeks: a realistic mix of buying rates and dropout.
const TRUTH: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const UCI_CALIBRATION_END = '2011-06-30';

interface Row {
  stage: string;
  items: number;
  seconds: number;
  runs: number[];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs `work` once to warm up, then `repeat` times; returns the last result and the timings. */
function time<T>(rows: Row[], stage: string, items: number, repeat: number, work: () => T): T {
  let result = work();
  const runs: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    result = work();
    runs.push((performance.now() - t0) / 1000);
  }
  rows.push({ stage, items, seconds: median(runs), runs });
  console.error(`  ${stage}: ${runs.map((s) => s.toFixed(3)).join(', ')} s`);
  return result;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      customers: { type: 'string', default: '100000' },
      repeat: { type: 'string', default: '3' },
      'data-dir': { type: 'string' },
      out: { type: 'string', default: 'results/lifecycle-bench.json' },
    },
  });
  const customers = Number(a.customers);
  const repeat = Number(a.repeat);
  if (!(Number.isInteger(customers) && customers > 0) || !(Number.isInteger(repeat) && repeat > 0)) throw new Error('--customers and --repeat must be integers > 0');
  const rows: Row[] = [];
  const before = cpuSnapshot([process.pid]);

  // Simulated: ages 27..39 weeks (a cohort acquired over a quarter, as CDNOW's), 39-week holdout.
  const sim = time(rows, `simulate customers (BG/NBD, seeded)`, customers, repeat, () => simulateBgNbd(TRUTH, { customers, minAge: 27, maxAge: 39, holdout: 39, seed: 1 }));
  const fit = time(rows, 'BG/NBD fit, simulated', customers, repeat, () => fitBgNbd(sim.rft));
  time(rows, 'P(alive) + E[Y(39)] per customer', customers, repeat, () => {
    let sum = 0;
    const expectedPurchases = expectedPurchasesOf(fit.params);
    for (let i = 0; i < customers; i++) {
      sum += probabilityAlive(fit.params, sim.rft.x[i], sim.rft.tx[i], sim.rft.T[i]);
      sum += expectedPurchases(sim.rft.x[i], sim.rft.tx[i], sim.rft.T[i], 39);
    }
    return sum;
  });
  const recovery = Object.fromEntries(
    (Object.keys(TRUTH) as (keyof BgNbdParams)[]).map((k) => [
      k,
      {
        true: TRUTH[k],
        fitted: fit.params[k],
        se: fit.standardErrors?.[k] ?? null,
        z: fit.standardErrors ? (fit.params[k] - TRUTH[k]) / fit.standardErrors[k] : null,
      },
    ]),
  );

  const t0 = performance.now();
  const { purchases } = await readPurchases(datasetSources('uci', a['data-dir']));
  const readSeconds = (performance.now() - t0) / 1000;
  console.error(`  read UCI: ${purchases.length} purchases in ${readSeconds.toFixed(2)} s (not in the table: file reading)`);
  const days = time(rows, 'UCI purchase days', purchases.length, repeat, () => purchaseDays(purchases));
  const summaries = time(rows, 'UCI summaries (unit day)', days.userIds.length, repeat, () => summarizeCustomers(days, 'day'));
  const lastDay = days.day.reduce((x, y) => Math.max(x, y));
  time(rows, 'UCI RFM scores and segments', days.userIds.length, repeat, () => rfmScores(summaries, lastDay));
  const end = dayOf(Date.parse(`${UCI_CALIBRATION_END}T00:00:00Z`) / 1000);
  const calibration = splitAtDay(days, end).calibration;
  const rft = rftData(calibration, end, 'week');
  time(rows, `UCI BG/NBD fit (weeks, to ${UCI_CALIBRATION_END})`, rft.x.length, repeat, () => fitBgNbd(rft));
  const spend = repeatSpend(calibration);
  const repeaters = [...rft.x.keys()].filter((i) => rft.x[i] > 0 && spend[i] > 0);
  const spendData = { x: Float64Array.from(repeaters, (i) => rft.x[i]), meanSpend: Float64Array.from(repeaters, (i) => spend[i]) };
  time(rows, 'UCI Gamma-Gamma fit', repeaters.length, repeat, () => fitGammaGamma(spendData));

  // Other processes on this (shared) host during the run slow the timings down.
  const others = otherLoad(before, cpuSnapshot([process.pid]));
  const width = Math.max(...rows.map((r) => r.stage.length));
  console.log(`\n${'stage'.padEnd(width)}  ${'items'.padStart(9)}  median s  runs (s)`);
  for (const r of rows) {
    console.log(`${r.stage.padEnd(width)}  ${r.items.toLocaleString('en-US').padStart(9)}  ${r.seconds.toFixed(3).padStart(8)}  ${r.runs.map((s) => s.toFixed(3)).join(', ')}`);
  }
  console.log(
    `\nBG/NBD on ${customers.toLocaleString('en-US')} simulated customers: ${fit.iterations} iterations, converged ${fit.converged}; ` +
      Object.entries(recovery)
        .map(([k, v]) => `${k} ${v.fitted.toPrecision(4)} (true ${v.true}, z ${v.z?.toFixed(2)})`)
        .join(', '),
  );
  console.log(`other processes used ${others.toFixed(2)} of ${cpus().length} cores on average during the run`);

  await mkdir(dirname(a.out!), { recursive: true });
  await writeFile(
    a.out!,
    `${JSON.stringify(
      {
        node: process.version,
        cpus: cpus().length,
        memory_gib: +(totalmem() / 2 ** 30).toFixed(1),
        repeat,
        other_load_cores: others,
        simulated: { customers, truth: TRUTH, recovery, converged: fit.converged, iterations: fit.iterations },
        uci: { purchases: purchases.length, customers: days.userIds.length, read_seconds: readSeconds, calibration_end: UCI_CALIBRATION_END },
        results: rows,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${a.out}`);
}

await runCli(main);
