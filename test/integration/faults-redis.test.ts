// Redis faults, for real: a private redis-server that the tests stop, restart and slow down
// (DEBUG SLEEP) under the app, with the API's own fail-fast client (src/store/redis/client.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { createRedis, createServingRedis } from '../../src/store/redis/client.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { startOwnRedis, type OwnRedis } from '../helpers/own-services.ts';
import { scanKeys, startTestServices, type TestServices } from '../helpers/services.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const DEADLINE_MS = 150;
const COMMAND_TIMEOUT_MS = 50;
// The app re-reads the live version this often; until then, a block whose values are all cached
// needs no Redis at all (and is answered normally).
const MODEL_REFRESH_MS = 100;
// What "never hangs" means here: the deadline plus generous room for a busy test machine (and
// well under the 2 s that DEBUG SLEEP keeps Redis from answering).
const BOUND_MS = DEADLINE_MS + 650;

interface Block {
  model_version: number | null;
  degraded?: boolean;
  sources: string[];
  items: { id: string }[];
}

describe('Redis down, slow or restarted (a private redis-server)', () => {
  let s: TestServices;
  let own: OwnRedis;
  let jobs: Redis;
  let api: Redis;
  let config: Config;
  let app: FastifyInstance;
  const keys = () => redisKeys(config.redisPrefix);
  const build = () => buildShop({ ...s, config, redis: jobs });

  async function timed(url: string, target = app) {
    const started = performance.now();
    const res = await target.inject({ method: 'GET', url });
    return { res, ms: performance.now() - started };
  }
  const ids = (block: Block) => block.items.map((i) => i.id);

  /** Polls until the app answers `url` normally again (ioredis reconnects by itself). */
  async function recovered(url: string): Promise<Block> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await app.inject({ method: 'GET', url });
      if (res.statusCode === 200 && !res.json().degraded) return res.json();
      assert.ok(Date.now() < deadline, `no normal answer 10 s after Redis came back (last: ${res.statusCode} ${res.body})`);
      await sleep(100);
    }
  }

  before(async () => {
    s = await startTestServices();
    own = await startOwnRedis();
    config = { ...s.config, serving: { ...s.config.serving, deadlineMs: DEADLINE_MS, redisCommandTimeoutMs: COMMAND_TIMEOUT_MS, modelRefreshMs: MODEL_REFRESH_MS } };
    jobs = createRedis(own.url);
    api = createServingRedis(own.url, COMMAND_TIMEOUT_MS);
    // Connection errors are expected here (the server logs them): not worth ioredis's console warning.
    for (const client of [jobs, api]) client.on('error', () => undefined);
    await loadShop(s.pool);
    await build();
    app = await buildApp(config, { pool: s.pool, redis: api }, { logger: false });
  });
  after(async () => {
    await app.close();
    api.disconnect();
    jobs.disconnect();
    await own.close();
    await s.close();
  });

  test('up: commands sent in one event-loop turn reach Redis in one read; later ones are not held back', async () => {
    const readsByRedis = async () => Number(/total_reads_processed:(\d+)/.exec(await jobs.info('stats'))![1]);
    const before = await readsByRedis();
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => api.echo(`m${i}`)));
    assert.deepEqual(
      replies,
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    );
    // This server is private: the reads are the 20 commands' and the two INFOs'.
    const reads = (await readsByRedis()) - before;
    assert.ok(reads <= 3, `20 commands of one turn took ${reads} reads`);

    // A command sent from the check phase (setImmediate) or a timer still leaves promptly.
    const started = performance.now();
    assert.equal(await new Promise((resolve, reject) => setImmediate(() => api.echo('immediate').then(resolve, reject))), 'immediate');
    assert.equal(await new Promise((resolve, reject) => setTimeout(() => api.echo('timer').then(resolve, reject), 1)), 'timer');
    assert.ok(performance.now() - started < 100);
  });

  test('down: blocks come at once, degraded from the cache of the last version; 503 only where nothing is cached', async () => {
    const warm = {
      popular: (await timed('/v1/recommendations/popular?limit=5')).res.json() as Block,
      byItem: (await timed('/v1/recommendations/collaborative?item=a1&limit=4')).res.json() as Block,
    };
    assert.equal(warm.popular.degraded, undefined);
    await own.stop();
    await sleep(MODEL_REFRESH_MS);

    const popular = await timed('/v1/recommendations/popular?limit=5');
    assert.ok(popular.ms < BOUND_MS, `popular took ${popular.ms} ms`);
    assert.equal(popular.res.statusCode, 200);
    assert.equal(popular.res.headers['cache-control'], 'no-store', 'a degraded block is not cached downstream');
    const block = popular.res.json() as Block;
    assert.equal(block.degraded, true);
    assert.equal(block.model_version, warm.popular.model_version);
    assert.deepEqual(ids(block), ids(warm.popular));

    const byItem = await timed('/v1/recommendations/collaborative?item=a1&limit=4');
    assert.ok(byItem.ms < BOUND_MS);
    assert.deepEqual({ ...(byItem.res.json() as Block), request_id: 0 }, { ...warm.byItem, degraded: true, request_id: 0 }, 'cached neighbours still answer');

    // Personal blocks lose the user's history (it lives in Redis): non-personal, from popular.
    for (const url of ['/v1/recommendations/collaborative?user=u1&limit=3', '/v1/recommendations/recently-viewed?user=u1&limit=3', '/v1/recommendations/same-brand?user=u4&limit=3']) {
      const { res, ms } = await timed(url);
      assert.ok(ms < BOUND_MS, `${url} took ${ms} ms`);
      assert.equal(res.statusCode, 200, url);
      assert.deepEqual([res.json().degraded, res.json().sources, ids(res.json())], [true, ['popular'], ids(warm.popular).slice(0, 3)], url);
    }

    const uncached = await timed('/v1/recommendations/popular?category=tools');
    assert.ok(uncached.ms < BOUND_MS);
    assert.equal(uncached.res.statusCode, 503);
    assert.equal(uncached.res.json().error, 'unavailable');
    assert.equal(uncached.res.headers['retry-after'], '1');

    const ready = await timed('/ready');
    assert.equal(ready.res.statusCode, 503);
    assert.notEqual(ready.res.json().redis, 'ok');
    assert.equal(ready.res.json().postgres, 'ok');

    // PostgreSQL is the truth: events are stored; the next build mirrors them into Redis.
    const events = await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ user_id: 'u9', item_id: 'a4', type: 'view', idempotency_key: 'redis-down-1' }] } });
    assert.deepEqual([events.statusCode, events.json().accepted], [200, 1]);

    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200, 'metrics still scrape');
    assert.match(metrics.body, /recs_recommendation_degraded_total\{tenant="default",strategy="popular"\} [1-9]/);
  });

  test('down: a process that never read a model answers 503 unavailable, at once', async () => {
    const fresh = await buildApp(config, { pool: s.pool, redis: api }, { logger: false });
    try {
      const { res, ms } = await timed('/v1/recommendations/popular', fresh);
      assert.ok(ms < BOUND_MS, `took ${ms} ms`);
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().error, 'unavailable');
    } finally {
      await fresh.close();
    }
  });

  test('back: the API recovers by itself; events stored meanwhile reach Redis with the next build', async () => {
    await own.start();
    const block = await recovered('/v1/recommendations/collaborative?user=u1&limit=3');
    assert.notDeepEqual(block.sources, ['popular'], 'personal again');
    assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    await build();
    assert.deepEqual(await jobs.zrange(keys().recentlyViewed('u9'), '0', '-1'), ['a4']);
  });

  test('data lost (a restart without persistence, a failover, FLUSHALL): the last model held serves, degraded; 503 without one; logged once; no number reused', async () => {
    const lines: string[] = [];
    const logged = await buildApp(
      config,
      { pool: s.pool, redis: api },
      {
        logStream: {
          write: (line) => {
            lines.push(line);
          },
        },
      },
    );
    const fresh = await buildApp(config, { pool: s.pool, redis: api }, { logger: false });
    try {
      const before = (await logged.inject('/v1/recommendations/popular?limit=3')).json() as Block;
      assert.equal(before.degraded, undefined);
      await jobs.flushall();
      await sleep(MODEL_REFRESH_MS);
      for (let i = 0; i < 20; i++) {
        const res = await logged.inject('/v1/recommendations/popular?limit=3');
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.deepEqual([res.json().degraded, res.json().model_version, ids(res.json())], [true, before.model_version, ids(before)]);
      }
      const never = await fresh.inject('/v1/recommendations/popular?limit=3');
      assert.equal(never.statusCode, 503, 'a process that never read a model has nothing to serve');
      assert.equal(never.json().error, 'no_model');
      const ready = await logged.inject('/ready');
      assert.deepEqual([ready.statusCode, ready.json().redis], [503, 'no model is live: run the build']);
      assert.equal(lines.filter((l) => l.includes('Redis unavailable')).length, 1, 'one warning for twenty degraded answers');

      const rebuilt = await build();
      assert.ok(rebuilt.version > before.model_version!, `version ${rebuilt.version} after ${before.model_version}: never reused`);
      await sleep(MODEL_REFRESH_MS);
      const after = (await logged.inject('/v1/recommendations/popular?limit=3')).json() as Block;
      assert.deepEqual([after.degraded, after.model_version], [undefined, rebuilt.version]);
      assert.ok(lines.some((l) => l.includes('Redis is back')));
    } finally {
      await Promise.all([logged.close(), fresh.close()]);
    }
  });

  test('slow: blocks come within the bound while Redis sleeps; jobs have no command timeout', async () => {
    await recovered('/v1/recommendations/popular?limit=5');
    const sleeper = createRedis(own.url);
    const patient = createRedis(own.url);
    try {
      await Promise.all([sleeper.ping(), patient.ping()]);
      const asleep = sleeper.call('DEBUG', 'SLEEP', '2');
      await sleep(MODEL_REFRESH_MS);
      const job = patient.get(keys().current);
      const urls = ['/v1/recommendations/popular?limit=5', '/v1/recommendations/collaborative?item=a1&limit=4', '/v1/recommendations/collaborative?user=u1&limit=3'];
      for (const [i, { res, ms }] of (await Promise.all(urls.map((url) => timed(url)))).entries()) {
        assert.ok(ms < BOUND_MS, `${urls[i]} took ${ms} ms while Redis slept`);
        assert.deepEqual([res.statusCode, res.json().degraded], [200, true], urls[i]);
      }
      await assert.rejects(api.get(keys().current), /Command timed out/);
      assert.match(String(await job), /^\d+$/, 'the job client waited for the answer');
      await asleep;
      await recovered('/v1/recommendations/collaborative?user=u1&limit=3');
    } finally {
      sleeper.disconnect();
      patient.disconnect();
    }
  });

  test('restart during a build: the live version keeps serving, the next build succeeds', async () => {
    const live = Number(await jobs.get(keys().current));
    const before = await recovered('/v1/recommendations/collaborative?item=a1&limit=4');
    const child = spawn(process.execPath, ['--import', 'tsx', 'jobs/build.ts', '--workers', '1', '--similarity', 'cooccurrence'], {
      cwd: ROOT,
      stdio: 'ignore',
      env: {
        ...process.env,
        DATABASE_URL: s.databaseUrl,
        REDIS_URL: own.url,
        REDIS_PREFIX: config.redisPrefix,
        // One key per round trip with a pause: publishing takes seconds, so Redis restarts midway.
        BUILD_PUBLISH_BATCH: '1',
        BUILD_PUBLISH_PAUSE_MS: '50',
        BUILD_LOCK_TTL_MS: '1000',
      },
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const next = live + 1;
    const deadline = Date.now() + 30_000;
    while ((await scanKeys(jobs, keys().versionPattern(next))).length < 3) {
      assert.ok(Date.now() < deadline, 'the child build started publishing');
      await sleep(50);
    }
    await own.stop();
    await sleep(300);
    await own.start();
    const code = await Promise.race([exited, sleep(30_000, 'hung', { ref: false })]);
    assert.notEqual(code, 'hung', 'the build ended by itself');

    // Whether the build failed (the usual case) or rode the restart out, what is live is whole.
    const current = Number(await jobs.get(keys().current));
    assert.ok(current === live || (code === 0 && current === next), `live v${current} (was v${live}, build exit ${code})`);
    assert.ok(await jobs.get(keys().meta(current)), 'the live version is complete');
    const during = await recovered('/v1/recommendations/collaborative?item=a1&limit=4');
    assert.deepEqual(ids(during), ids(before));

    await sleep(1100); // a dead build's lock lapses
    const summary = await build();
    assert.ok(summary.version > next);
    assert.equal(Number(await jobs.get(keys().current)), summary.version);
    assert.equal((await recovered('/v1/recommendations/collaborative?item=a1&limit=4')).model_version, summary.version);
  });

  test('the server started while Redis is down: it serves, and logs the connection errors (none printed raw)', async () => {
    await own.stop();
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: s.databaseUrl, REDIS_URL: own.url, REDIS_PREFIX: config.redisPrefix, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const deadline = Date.now() + 20_000;
      let url: string | undefined;
      while ((url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1]) === undefined) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `the server did not start:\n${stdout}\n${stderr}`);
        await sleep(50);
      }
      assert.equal((await fetch(`${url}/health`)).status, 200);
      assert.equal((await fetch(`${url}/ready`)).status, 503, 'not ready without Redis');
      child.kill('SIGTERM');
      await exited;
      assert.doesNotMatch(stderr, /Unhandled error event/);
      assert.equal(stdout.match(/"msg":"Redis unavailable: answering degraded or 503 until it is back"/g)?.length, 1, 'the outage, logged once');
    } finally {
      await own.start();
    }
  });
});
