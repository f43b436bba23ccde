import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { Histogram, openLoop } from '../../bench/lib/open-loop.ts';

/** A loopback node:http server; answers are timers, so it shares this event loop without blocking it. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  let n = 0;
  const server = createServer((req, res) => handler(req, res, n++));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('open-loop load generator', () => {
  const servers: { close(): void }[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  test('the histogram: exact below 256 µs, above within 0.8% and never below the exact rank', () => {
    const h = new Histogram();
    const values: number[] = [];
    let seed = 1;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 48271) % 2147483647;
      // Whole microseconds from 1 µs to ~2 s, log-spread like latencies.
      const ms = Math.round(Math.exp((seed / 2147483647) * 14.5)) / 1000;
      values.push(ms);
      h.record(ms);
    }
    values.sort((a, b) => a - b);
    for (const p of [0.01, 0.1, 0.5, 0.9, 0.99, 0.999]) {
      const exact = values[Math.ceil(p * values.length) - 1];
      const got = h.percentile(p);
      assert.ok(got >= exact && got <= exact * 1.008 + (exact < 0.256 ? 0 : 0.001), `p${p}: ${got} vs ${exact}`);
      if (exact < 0.256) assert.equal(got, exact);
    }
    assert.equal(h.max, values.at(-1));
    assert.equal(h.percentile(1), values.at(-1));
    assert.equal(h.count, values.length);
  });

  test('a 200 ms stall shows in every request scheduled during it (coordinated omission corrected), at the target rate', async () => {
    const rate = 500;
    const warmup = 0.5;
    const seconds = 3;
    const stallAt = rate * warmup + (rate * seconds) / 2;
    let stallUntil = 0;
    const server = await serve((_req, res, n) => {
      if (n === stallAt) stallUntil = performance.now() + 200;
      const answer = () => {
        const wait = stallUntil - performance.now();
        if (wait > 0) setTimeout(answer, wait);
        else res.end('{"ok":true}');
      };
      setTimeout(answer, 2);
    });
    servers.push(server);
    const r = await openLoop(server.url, ['/a', '/b'], { rate, seconds, warmup, connections: 10, timeoutMs: 5000 });

    assert.equal(r.requests, rate * seconds);
    assert.equal(r.errors, 0);
    assert.equal(r.non2xx, 0);
    assert.ok(Math.abs(r.achievedRate / rate - 1) < 0.05, `achieved ${r.achievedRate} req/s of ${rate}`);
    // Outside the stall, answers take the 2 ms delay (plus this VM's noise).
    assert.ok(r.p50 < 50, `p50 ${r.p50} ms`);
    // ~100 of the 1,500 requests were due during the stall and waited up to 200 ms from their due
    // time, so p99 is ~170 ms. A closed loop of 10 connections sends only 10 requests into the
    // stall (0.7%) and times nothing while it lasts: its p99 would be the 2 ms delay.
    assert.ok(r.p99 >= 100, `p99 ${r.p99} ms`);
    assert.ok(r.max >= 190 && r.max < 1000, `max ${r.max} ms`);
    // The wait was for one of the 10 stalled connections: the generator itself kept the schedule.
    assert.ok(r.lagP99 < 50, `generator lag p99 ${r.lagP99} ms`);
  });

  test('non-2xx answers, dropped connections and timeouts are counted; warm-up is not; the rotation restarts with the measured part', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/fail') {
        res.statusCode = 503;
        res.end('{}');
      } else if (req.url === '/drop') req.socket.destroy();
      else if (req.url !== '/hang') res.end('{}');
    });
    servers.push(server);
    // Per 100 requests: 10 fail, 10 are dropped, 1 hangs; 40 warm-up requests meet no hang.
    const paths = Array.from({ length: 100 }, (_, i) => (i === 50 ? '/hang' : i % 10 === 3 ? '/fail' : i % 10 === 7 ? '/drop' : '/ok'));
    const r = await openLoop(server.url, paths, { rate: 200, seconds: 1, warmup: 0.2, connections: 10, timeoutMs: 300 });

    assert.equal(r.non2xx, 20);
    assert.equal(r.errors, 22);
    assert.equal(r.requests, 200 - 22);
  });

  test('at rates where wake-ups are shared, every request is sent, answered or not', { timeout: 20_000 }, async () => {
    // Nothing answers, so only the schedule's own wake-ups can send the last requests. Without a
    // wake-up for the last due, about one run in five never ended: twenty runs catch it.
    const server = await serve(() => {});
    servers.push(server);
    for (let run = 0; run < 20; run++) {
      const r = await openLoop(server.url, ['/'], { rate: 20_000, seconds: 0.05, warmup: 0, connections: 10, timeoutMs: 20 });
      assert.equal(r.errors, 1000);
      assert.equal(r.requests, 0);
    }
  });
});
