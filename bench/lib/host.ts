// CPU time of the whole host versus that of the processes under test, from /proc (Linux): on a
// shared 2-core machine, other work during a run skews it, and the report should say so.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux this runs on

export interface CpuSnapshot {
  at: number;
  /** CPU seconds spent in processes, host-wide. */
  host: number;
  /** CPU seconds of the given processes. */
  ours: number;
}

// Process time only: interrupt time (our own loopback traffic, mostly) belongs to no process.
function hostBusySeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system] = fields.map(Number);
  return (user + nice + system) / TICKS_PER_SECOND;
}

function processSeconds(pid: number): number {
  try {
    // Fields after the ")" of the command name: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export function cpuSnapshot(pids: readonly number[]): CpuSnapshot {
  return { at: performance.now(), host: hostBusySeconds(), ours: pids.reduce((sum, pid) => sum + processSeconds(pid), 0) };
}

/** Cores' worth of CPU used by everything else on the host between two snapshots. */
export function otherLoad(from: CpuSnapshot, to: CpuSnapshot): number {
  const seconds = (to.at - from.at) / 1000;
  return Math.max(0, to.host - from.host - (to.ours - from.ours)) / seconds;
}
