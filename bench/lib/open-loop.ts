// Open-loop load at a fixed arrival rate: request i is due at start + i/rate whether or not the
// earlier ones have answered, and its latency counts from that due time, as wrk2 does. A closed
// loop (autocannon) stops sending while the server stalls and so never times the requests that
// would have waited (coordinated omission); here every request scheduled during a stall shows it.
// The generator shares two cores with the server and Redis, so it is built to be cheap: raw
// HTTP/1.1 on keep-alive sockets (measured here at about half the CPU per request of node:http's
// Agent, 50-70% of undici's Pool), and a worker thread sleeping on Atomics.wait wakes this one at
// due times, because Node's timers tick in whole milliseconds: with them requests left ~0.5 ms
// late at the median at 1,000 req/s (~0.1 ms this way), more than the server's own time at low load.
import { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number;
  /** Measured seconds, after `warmup` seconds at the same rate that are not recorded. */
  seconds: number;
  warmup: number;
  /** Keep-alive connections; a request finding none free waits for one, and the wait counts. */
  connections: number;
  /** How long answers still missing after the last send are waited for (then they are errors). */
  timeoutMs: number;
}

export interface OpenLoopResult {
  targetRate: number;
  /** Answers of the measured part per second, from its first due time to its last answer. */
  achievedRate: number;
  requests: number;
  /** Latency percentiles and maximum from the due time, ms. */
  p50: number;
  p90: number;
  p975: number;
  p99: number;
  p999: number;
  max: number;
  /** Requests without an answer: connection failures and timeouts. */
  errors: number;
  non2xx: number;
  /**
   * Due time to the moment the generator got to the request, ms: its own lateness (a busy or
   * starved event loop), which is part of the latencies. Waits for a free connection are not in it.
   */
  lagP50: number;
  lagP99: number;
}

const SUB_BITS = 8;
const SUB = 1 << SUB_BITS;
const HALF = SUB >> 1;
const MAX_US = 2 ** 31 - 1;

/**
 * HDR-style log-linear histogram of latencies in whole microseconds: exact below 256 µs, then 128
 * buckets per power of two (within 0.8%) up to 35 minutes; constant memory, O(1) per record.
 */
export class Histogram {
  private readonly counts = new Float64Array(SUB + (31 - SUB_BITS) * HALF);
  count = 0;
  /** Exact, ms. */
  max = 0;

  record(ms: number): void {
    const us = Math.min(MAX_US, Math.max(0, Math.round(ms * 1000)));
    let index = us;
    if (us >= SUB) {
      const shift = 31 - Math.clz32(us) - SUB_BITS + 1;
      index = SUB + (shift - 1) * HALF + (us >>> shift) - HALF;
    }
    this.counts[index]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The p-quantile (0..1), ms: nearest rank, as the highest value of its bucket (never above max). */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    let index = 0;
    while ((seen += this.counts[index]) < rank) index++;
    return Math.min(this.max, highestInBucket(index) / 1000);
  }
}

function highestInBucket(index: number): number {
  if (index < SUB) return index;
  const shift = Math.floor((index - SUB) / HALF) + 1;
  return (((index - SUB) % HALF) + HALF + 1) * 2 ** shift - 1;
}

/** Monotonic ms shared by all threads (performance.now() counts from each thread's own start). */
function clock(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

// Dues closer than this share one wake-up: bounds the messages per second at high rates. The
// last due always gets one, or what follows the last shared wake-up would never be sent.
const MIN_GAP_MS = 0.25;

// The worker: the first message is the schedule's start, each later one means "a request is due".
// Plain CommonJS evaluated without tsx, so the thread starts in a few ms.
const METRONOME = `
const { parentPort, workerData: { interval, total, minGap } } = require('node:worker_threads');
const clock = () => { const [s, ns] = process.hrtime(); return s * 1e3 + ns / 1e6; };
const cell = new Int32Array(new SharedArrayBuffer(4));
const start = clock();
parentPort.postMessage(start);
for (let k = 0; k < total; ) {
  for (let wait; (wait = start + k * interval - clock()) > 0; ) Atomics.wait(cell, 0, 0, wait);
  parentPort.postMessage(0);
  k = Math.max(k + 1, Math.min(total - 1, Math.ceil((clock() + minGap - start) / interval)));
}`;

/**
 * One keep-alive HTTP/1.1 connection carrying one request at a time. An answer's end is found by
 * its Content-Length, which Fastify and node:http's `end(body)` send; one without it closes the
 * connection and counts as an error.
 */
class Connection {
  private readonly socket: Socket;
  private buffered: Buffer | undefined;
  /** Where the answer being read ends in the buffer, once its head is in; -1 before. */
  private end = -1;
  private status = 0;
  private onAnswer: ((status: number) => void) | undefined;

  constructor(port: number, host: string, onClose: (c: Connection) => void) {
    this.socket = new Socket().connect(port, host).setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', () => {
      /* the close that follows settles the request */
    });
    this.socket.on('close', () => {
      this.settle(0);
      onClose(this);
    });
  }

  get alive(): boolean {
    return !this.socket.destroyed;
  }

  /** `onAnswer` gets the status, or 0 when the connection failed first. */
  request(head: string, onAnswer: (status: number) => void): void {
    this.onAnswer = onAnswer;
    this.socket.write(head, 'latin1');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    let data = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (this.onAnswer) {
      if (this.end < 0) {
        const headEnd = data.indexOf('\r\n\r\n');
        if (headEnd < 0) break;
        const head = data.toString('latin1', 0, headEnd);
        const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
        if (!length) {
          this.socket.destroy();
          return;
        }
        this.status = Number(head.slice(9, 12));
        this.end = headEnd + 4 + Number(length[1]);
      }
      if (data.length < this.end) break;
      data = data.subarray(this.end);
      this.end = -1;
      this.settle(this.status);
    }
    this.buffered = data.length ? data : undefined;
  }

  private settle(status: number): void {
    const onAnswer = this.onAnswer;
    this.onAnswer = undefined;
    onAnswer?.(status);
  }
}

/** GETs `paths` in turn at `options.rate` from `baseUrl` (loopback: a server this process started). */
export function openLoop(baseUrl: string, paths: readonly string[], options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { hostname, port, host } = new URL(baseUrl);
  const heads = paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const interval = 1000 / options.rate;
  const warm = Math.round(options.rate * options.warmup);
  const total = warm + Math.round(options.rate * options.seconds);
  const latency = new Histogram();
  const lag = new Histogram();
  let non2xx = 0;
  let settled = 0;
  let lastAnswer = 0;
  let start = 0;
  let sent = 0;
  let deadline: NodeJS.Timeout | undefined;
  let finished = false;

  const idle: Connection[] = [];
  const open = new Set<Connection>();
  const waiting: number[] = [];

  return new Promise<OpenLoopResult>((resolve, reject) => {
    const worker = new Worker(METRONOME, { eval: true, execArgv: [], workerData: { interval, total, minGap: MIN_GAP_MS } });

    const finish = () => {
      finished = true;
      clearTimeout(deadline);
      void worker.terminate();
      for (const c of open) c.destroy();
      resolve({
        targetRate: options.rate,
        achievedRate: latency.count && latency.count / ((lastAnswer - (start + warm * interval)) / 1000),
        requests: latency.count,
        p50: latency.percentile(0.5),
        p90: latency.percentile(0.9),
        p975: latency.percentile(0.975),
        p99: latency.percentile(0.99),
        p999: latency.percentile(0.999),
        max: latency.max,
        errors: total - warm - latency.count,
        non2xx,
        lagP50: lag.percentile(0.5),
        lagP99: lag.percentile(0.99),
      });
    };

    const write = (c: Connection, i: number) => {
      const due = start + i * interval;
      // The rotation starts over with the measured part, as the saturation run's does (load.ts).
      c.request(heads[(i < warm ? i : i - warm) % heads.length], (status) => {
        if (finished) return;
        if (i >= warm && status !== 0) {
          lastAnswer = clock();
          latency.record(lastAnswer - due);
          if (status < 200 || status > 299) non2xx++;
        }
        if (c.alive) release(c);
        if (++settled === total) finish();
        else pump();
      });
    };
    const release = (c: Connection) => {
      const i = waiting.shift();
      if (i === undefined) idle.push(c);
      else write(c, i);
    };
    const connect = () => {
      const c = new Connection(Number(port), hostname, (closed) => {
        open.delete(closed);
        if (idle.includes(closed)) idle.splice(idle.indexOf(closed), 1);
        if (!finished && waiting.length) dispatch(waiting.shift()!);
      });
      open.add(c);
      return c;
    };
    const dispatch = (i: number) => {
      const c = idle.pop() ?? (open.size < options.connections ? connect() : undefined);
      if (c) write(c, i);
      else waiting.push(i);
    };
    // Runs on each wake-up and each answer: whichever comes first sends what is due.
    const pump = () => {
      const now = clock();
      for (; sent < total && start + sent * interval <= now; sent++) {
        if (sent >= warm) lag.record(now - (start + sent * interval));
        dispatch(sent);
      }
      if (sent === total && deadline === undefined) deadline = setTimeout(finish, options.timeoutMs);
    };

    worker.once('message', (at: number) => {
      start = at;
      worker.on('message', pump);
      pump();
    });
    worker.on('error', reject);
  });
}
