// Where an open-loop run's tail latency comes from: how long the main threads of the server,
// Redis and the load generator waited for a CPU (the kernel's run-queue time,
// /proc/PID/schedstat, Linux), and what the server's own metrics say of its event loop and
// garbage collector. Taken over the whole run, its warm-up included (the latencies leave the
// warm-up out). On a 2-core host shared by all three, a thread that is runnable but not running
// is a request that waits, whatever the serving code does.
import { readFileSync } from 'node:fs';
import { metricValue } from './prometheus.ts';

export interface Stalls {
  /** Milliseconds per second that the server's main thread was runnable but not on a CPU; NaN when /proc does not say. */
  serverRunQueueMsPerS: number;
  /** The same for Redis's main thread (a local Redis), and for the load generator's (this process). */
  redisRunQueueMsPerS: number;
  generatorRunQueueMsPerS: number;
  /**
   * How late the server's event-loop timer fired at worst, ms. prom-client samples with a 10 ms
   * timer, so a stall of S ms shows as S − 10 to S: a lower bound, up to 10 ms short.
   */
  loopDelayMax: number;
  /** Milliseconds per second spent in garbage collection, and the pauses over 10 ms. */
  gcMsPerS: number;
  gcPausesOver10ms: number;
}

/** Nanoseconds a process's main thread has waited on a run queue since it started; NaN when unreadable. */
function runQueueWaitNs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return Number.NaN;
  }
}

interface Scrape {
  at: number;
  server: number;
  redis: number;
  generator: number;
  gcSeconds: number;
  gcOver10ms: number;
  loopMax: number;
}

// prom-client's event-loop samples are whole 10 ms timer intervals (its default precision).
const LOOP_SAMPLE_MS = 10;

// prom-client resets its event-loop delay histogram at each scrape: the second scrape's maximum
// covers the run alone.
async function scrape(metricsUrl: string, serverPid: number, redisPid: number): Promise<Scrape> {
  const text = await (await fetch(metricsUrl)).text();
  return {
    at: performance.now(),
    server: runQueueWaitNs(serverPid),
    redis: runQueueWaitNs(redisPid),
    generator: runQueueWaitNs(process.pid),
    gcSeconds: metricValue(text, 'nodejs_gc_duration_seconds_sum'),
    gcOver10ms: metricValue(text, 'nodejs_gc_duration_seconds_count') - metricValue(text, 'nodejs_gc_duration_seconds_bucket', 'le="0.01"'),
    loopMax: Math.max(0, metricValue(text, 'nodejs_eventloop_lag_max_seconds') * 1000 - LOOP_SAMPLE_MS),
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
      loopDelayMax: after.loopMax,
      gcMsPerS: ((after.gcSeconds - before.gcSeconds) * 1000) / seconds,
      gcPausesOver10ms: after.gcOver10ms - before.gcOver10ms,
    },
  };
}
