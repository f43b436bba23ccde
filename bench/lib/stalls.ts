// Where an open-loop run's tail latency comes from: how long the main threads of the server,
// Redis and the load generator waited for a CPU (the kernel's run-queue time,
// /proc/PID/schedstat, Linux), and what the server's own metrics say of its event loop and
// garbage collector over the run. On a 2-core host shared by all three, a thread that is
// runnable but not running is a request that waits, whatever the serving code does.
import { readFileSync } from 'node:fs';

export interface Stalls {
  /** Milliseconds per second that the server's main thread was runnable but not on a CPU. */
  serverRunQueueMsPerS: number;
  /** The same for Redis's main thread, and for the load generator's (this process). */
  redisRunQueueMsPerS: number;
  generatorRunQueueMsPerS: number;
  /** How late the server's event-loop timer fired over the run (GC, long tasks, descheduling), ms: p99 and longest. */
  loopDelayP99: number;
  loopDelayMax: number;
  /** Milliseconds per second spent in garbage collection, and the pauses over 10 ms. */
  gcMsPerS: number;
  gcPausesOver10ms: number;
}

/** Nanoseconds a process's main thread has waited on a run queue since it started (0 when unreadable). */
function runQueueWaitNs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return 0;
  }
}

interface Scrape {
  at: number;
  server: number;
  redis: number;
  generator: number;
  gcSeconds: number;
  gcOver10ms: number;
  loopP99: number;
  loopMax: number;
}

/** Sums a metric's samples (every label set) in a Prometheus text exposition. */
function sum(text: string, name: string, labels = ''): number {
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) if ((m[1] ?? '').includes(labels)) total += Number(m[2]);
  return total;
}

// prom-client samples the event loop with a 10 ms timer (its default precision) and reports the
// whole interval: the delay is what exceeds it.
const LOOP_SAMPLE_MS = 10;

// prom-client resets its event-loop delay histogram at each scrape, so the second scrape's
// figures cover the run alone.
async function scrape(metricsUrl: string, serverPid: number, redisPid: number): Promise<Scrape> {
  const text = await (await fetch(metricsUrl)).text();
  return {
    at: performance.now(),
    server: runQueueWaitNs(serverPid),
    redis: runQueueWaitNs(redisPid),
    generator: runQueueWaitNs(process.pid),
    gcSeconds: sum(text, 'nodejs_gc_duration_seconds_sum'),
    gcOver10ms: sum(text, 'nodejs_gc_duration_seconds_count') - sum(text, 'nodejs_gc_duration_seconds_bucket', 'le="0.01"'),
    loopP99: Math.max(0, sum(text, 'nodejs_eventloop_lag_p99_seconds') * 1000 - LOOP_SAMPLE_MS),
    loopMax: Math.max(0, sum(text, 'nodejs_eventloop_lag_max_seconds') * 1000 - LOOP_SAMPLE_MS),
  };
}

/** Runs `work` against a server (its /metrics at `metricsUrl`) and says what stalled it meanwhile. */
export async function withStalls<T>(metricsUrl: string, pids: { server: number; redis: number }, work: () => Promise<T>): Promise<T & { stalls: Stalls }> {
  const before = await scrape(metricsUrl, pids.server, pids.redis);
  const result = await work();
  const after = await scrape(metricsUrl, pids.server, pids.redis);
  const seconds = (after.at - before.at) / 1000;
  return {
    ...result,
    stalls: {
      serverRunQueueMsPerS: (after.server - before.server) / 1e6 / seconds,
      redisRunQueueMsPerS: (after.redis - before.redis) / 1e6 / seconds,
      generatorRunQueueMsPerS: (after.generator - before.generator) / 1e6 / seconds,
      loopDelayP99: after.loopP99,
      loopDelayMax: after.loopMax,
      gcMsPerS: ((after.gcSeconds - before.gcSeconds) * 1000) / seconds,
      gcPausesOver10ms: after.gcOver10ms - before.gcOver10ms,
    },
  };
}
