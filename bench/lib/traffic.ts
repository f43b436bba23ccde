// Open-loop traffic at a fixed rate: requests start on schedule whether or not earlier ones have
// answered, as real clients' do, so a slow server shows as latency rather than as fewer
// requests. Latency counts from the moment a request is handed to the connection pool, waiting
// for a free connection included (no coordinated omission), but not the scheduler's own tick.
// Loopback only: the target is a server this process started.
import http from 'node:http';

export interface TrafficRequest {
  kind: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

export interface TrafficSample {
  kind: string;
  /** Scheduled start, ms since the traffic began. */
  at: number;
  ms: number;
  /** HTTP status; 0 for a network error or a timeout. */
  status: number;
  /** The answer said `"degraded":true`. */
  degraded: boolean;
}

export interface TrafficOptions {
  /** Requests per second. */
  rate: number;
  seconds: number;
  /** Keep-alive connections; requests beyond them wait for one (and that wait counts). */
  connections: number;
  timeoutMs: number;
}

const TICK_MS = 5;

function send(agent: http.Agent, base: URL, request: TrafficRequest, timeoutMs: number): Promise<{ status: number; degraded: boolean }> {
  return new Promise((resolve) => {
    const headers: http.OutgoingHttpHeaders = request.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(request.body) };
    const req = http.request({ agent, host: base.hostname, port: base.port, method: request.method, path: request.path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, degraded: body.includes('"degraded":true') }));
      res.on('error', () => resolve({ status: 0, degraded: false }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, degraded: false }));
    req.end(request.body);
  });
}

/** Sends `next()` requests at `rate` for `seconds`; resolves with every sample once all have answered. */
export async function runTraffic(baseUrl: string, options: TrafficOptions, next: () => TrafficRequest): Promise<TrafficSample[]> {
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const samples: TrafficSample[] = [];
  const pending: Promise<void>[] = [];
  const started = performance.now();
  let sent = 0;
  const total = Math.floor(options.rate * options.seconds);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * options.rate) / 1000));
      for (; sent < due; sent++) {
        const at = (sent * 1000) / options.rate;
        const request = next();
        const sentAt = performance.now();
        pending.push(
          send(agent, base, request, options.timeoutMs).then(({ status, degraded }) => {
            samples.push({ kind: request.kind, at, ms: performance.now() - sentAt, status, degraded });
          }),
        );
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await Promise.all(pending);
  agent.destroy();
  return samples;
}
