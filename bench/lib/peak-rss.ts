// A job run in a child process, with the peak of its resident memory (VmHWM, from /proc: Linux):
// the import and the build are measured as the CLIs an operator runs, each in its own process.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ChildRun {
  stdout: string;
  seconds: number;
  peakRssMiB: number;
}

function highWaterMiB(pid: number): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) / 1024;
  } catch {
    return 0; // exited between two looks
  }
}

/** Runs `node --import tsx script args` to the end; rejects when it fails. */
export function runMeasured(cwd: string, script: string, args: string[], env: Record<string, string>): Promise<ChildRun> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  let peak = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  // The high-water mark only grows: the last look before the exit is within 200 ms of the end.
  const timer = setInterval(() => {
    peak = Math.max(peak, highWaterMiB(child.pid!));
  }, 200);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`${script} exited with code ${code}`));
      else resolve({ stdout, seconds: (performance.now() - started) / 1000, peakRssMiB: Math.round(peak) });
    });
  });
}
