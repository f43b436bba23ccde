// One autocannon run against a rotating set of paths, so that each request asks for another
// user or item (no single hot key). Latencies are recorded here to the microsecond:
// autocannon's own histogram has 1 ms resolution, too coarse for a 5 ms p99 target.
import autocannon from 'autocannon';

export interface LoadOptions {
  seconds: number;
  connections: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  /** Latency percentiles and maximum, ms. */
  p50: number;
  p90: number;
  p975: number;
  p99: number;
  p999: number;
  max: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

/** The p-quantile (0..1) of ascending latencies: the nearest-rank method. */
export function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

export async function load(baseUrl: string, paths: readonly string[], options: LoadOptions): Promise<LoadResult> {
  let next = 0;
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl,
        connections: options.connections,
        duration: options.seconds,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => {
              request.path = paths[next++ % paths.length];
              return request;
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    // The typings leave out the first argument autocannon passes (the client).
    (instance as NodeJS.EventEmitter).on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
    });
  });
  const sorted = Float64Array.from(latencies).sort();
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p975: percentile(sorted, 0.975),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}
