// Resident memory of a process over time (from /proc, Linux) and its trend: a leak shows as a
// steady climb, a cache filling up as a climb that levels off.
import { readFileSync } from 'node:fs';

export interface RssPoint {
  /** Seconds since sampling began. */
  t: number;
  mib: number;
}

export function rssMiB(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb === undefined ? NaN : Number(kb) / 1024;
}

/** Samples `pid` every `everyMs` until stop(), which returns the points. */
export function sampleRss(pid: number, everyMs: number): { stop(): RssPoint[] } {
  const started = performance.now();
  const points: RssPoint[] = [];
  const take = () => points.push({ t: (performance.now() - started) / 1000, mib: rssMiB(pid) });
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return points;
    },
  };
}

/** Least-squares slope of the points, MiB per minute. */
export function slopePerMinute(points: readonly RssPoint[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanT = points.reduce((s, p) => s + p.t, 0) / n;
  const meanM = points.reduce((s, p) => s + p.mib, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - meanT) * (p.mib - meanM);
    den += (p.t - meanT) ** 2;
  }
  return den === 0 ? 0 : (60 * num) / den;
}
