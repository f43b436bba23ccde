// Runs bench/sar_baseline.py (SAR's fit in numpy/scipy) for bench/fit.ts. A missing
// interpreter or missing numpy/scipy is a skip with a reason, never an error.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = new URL('../sar_baseline.py', import.meta.url).pathname;

export interface SarBaselineOptions {
  repeat: number;
  halfLifeDays: number;
  threshold: number;
  similarity: string;
  eventWeights: Record<string, number>;
}

/** What bench/sar_baseline.py prints (the fields fit.ts reads). */
export interface SarBaselineResult {
  fit_seconds_median: number;
  fit_seconds_runs: number[];
  fit_seconds_median_without_index: number;
  stage_seconds_median: Record<string, number>;
  rows: number;
  users: number;
  items: number;
  similarity: string;
  similarity_pairs: number;
  similarity_sum: number;
  similarity_matrix_mib: number;
  peak_rss_mib: number;
  python: string;
  numpy: string;
  scipy: string;
  env: Record<string, string>;
}

export type SarBaselineOutcome = { ok: true; result: SarBaselineResult } | { ok: false; reason: string };

function failure(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { stderr?: string };
  if (e.code === 'ENOENT') return 'not found';
  return (e.stderr?.trim().split('\n').pop() || e.message).slice(0, 300);
}

/** Runs the baseline on `file` with `python` (a command on PATH, e.g. python3). */
export async function runSarBaseline(python: string, file: string, options: SarBaselineOptions): Promise<SarBaselineOutcome> {
  try {
    await run(python, ['-c', 'import numpy, scipy.sparse']);
  } catch (err) {
    return { ok: false, reason: `${python} with numpy and scipy is not available (${failure(err)})` };
  }
  const args = [
    SCRIPT,
    file,
    '--repeat',
    String(options.repeat),
    '--half-life-days',
    String(options.halfLifeDays),
    '--threshold',
    String(options.threshold),
    '--similarity',
    options.similarity,
    '--event-weights',
    JSON.stringify(options.eventWeights),
  ];
  try {
    const { stdout } = await run(python, args, { maxBuffer: 1 << 24 });
    return { ok: true, result: JSON.parse(stdout) as SarBaselineResult };
  } catch (err) {
    return { ok: false, reason: `bench/sar_baseline.py failed: ${failure(err)}` };
  }
}
