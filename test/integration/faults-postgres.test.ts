// PostgreSQL faults, for real: a private cluster that the tests crash, restart, lock and freeze
// (SIGSTOP) under the app, whose pool has the API's bounded timeouts (src/store/pg/pool.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import { createPool } from '../../src/store/pg/pool.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { startOwnPostgres, type OwnPostgres } from '../helpers/own-services.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const CONNECT_TIMEOUT_MS = 500;
const STATEMENT_TIMEOUT_MS = 300;
// Room for a busy test machine: a hang would be unbounded.
const BOUND_MS = 1500;

const BATCH = {
  events: [
    { user_id: 'u1', item_id: 'b2', type: 'view', idempotency_key: 'pg-fault-1' },
    { user_id: 'u1', item_id: 'c1', type: 'purchase', idempotency_key: 'pg-fault-2' },
    { user_id: 'u2', item_id: 'a4', type: 'cart', idempotency_key: 'pg-fault-3' },
  ],
};

describe('PostgreSQL down, stuck or frozen (a private cluster)', () => {
  let s: TestServices;
  let own: OwnPostgres;
  let jobs: pg.Pool;
  let config: Config;
  const apps: FastifyInstance[] = [];
  const pools: pg.Pool[] = [];
  const count = async () => (await jobs.query('SELECT count(*)::int AS n FROM events')).rows[0].n as number;

  /** The app as the server runs it: its pool has the API's timeouts. */
  async function startApp(appConfig = config): Promise<FastifyInstance> {
    const pool = createPool(own.url, 5, { connectMs: CONNECT_TIMEOUT_MS, statementMs: STATEMENT_TIMEOUT_MS });
    const app = await buildApp(appConfig, { pool, redis: s.redis }, { logger: false });
    await app.ready();
    pools.push(pool);
    apps.push(app);
    return app;
  }

  async function timedPost(app: FastifyInstance) {
    const started = performance.now();
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: BATCH });
    return { res, ms: performance.now() - started };
  }

  before(async () => {
    s = await startTestServices();
    // As scripts/services.sh runs the development cluster (commits not waiting for their WAL), with
    // the WAL writer slowed down so that a commit that did not wait is surely lost in a crash.
    own = await startOwnPostgres(['synchronous_commit=off', 'wal_writer_delay=10000ms']);
    config = { ...s.config, databaseUrl: own.url };
    jobs = createPool(own.url, 2);
    await migrate(jobs);
    await loadShop(jobs);
    await buildShop({ ...s, pool: jobs });
    await jobs.query('CHECKPOINT'); // the fixture itself was written without waiting for its WAL
  });
  after(async () => {
    for (const app of apps) await app.close();
    await Promise.all([...pools, jobs].map((pool) => pool.end()));
    await own.close();
    await s.close();
  });

  test('crashed: events get 503 at once and nothing is written; reads serve from Redis; a retry with the same keys stores the batch once', async () => {
    const app = await startApp();
    await app.inject({ method: 'GET', url: '/ready' }); // the pool holds a connection when the server dies
    const before = await count();
    await own.stop('immediate');

    const down = await timedPost(app);
    assert.ok(down.ms < BOUND_MS, `took ${down.ms} ms`);
    assert.equal(down.res.statusCode, 503);
    assert.equal(down.res.json().error, 'unavailable');
    assert.equal(down.res.headers['retry-after'], '1');

    const block = await app.inject({ method: 'GET', url: '/v1/recommendations/collaborative?user=u1&limit=3' });
    assert.equal(block.statusCode, 200);
    assert.equal(block.json().degraded, undefined);
    assert.notDeepEqual(block.json().sources, ['popular'], 'personal: history and model are in Redis');

    const ready = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 503);
    assert.deepEqual([ready.json().redis, ready.json().postgres === 'ok'], ['ok', false]);

    await own.start();
    const deadline = Date.now() + 10_000;
    while ((await app.inject({ method: 'GET', url: '/ready' })).statusCode !== 200) {
      assert.ok(Date.now() < deadline, '/ready again within 10 s of PostgreSQL coming back');
      await sleep(100);
    }
    assert.equal(await count(), before, 'the failed batch left nothing behind');
    const retried = await timedPost(app);
    assert.deepEqual(retried.res.json(), { accepted: 3, duplicates: 0, dropped: 0 });
    assert.deepEqual((await timedPost(app)).res.json(), { accepted: 0, duplicates: 3, dropped: 0 });
    assert.equal(await count(), before + 3);
  });

  test('an acknowledged batch survives a crash right after its 200, though the cluster does not wait for commits by default', async () => {
    const app = await startApp();
    const before = await count();
    const batch = {
      events: [
        { user_id: 'u7', item_id: 'a1', type: 'view', idempotency_key: 'durable-1' },
        { user_id: 'u7', item_id: 'a2', type: 'purchase', idempotency_key: 'durable-2' },
      ],
    };
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: batch });
    assert.deepEqual([res.statusCode, res.json().accepted], [200, 2]);
    await own.stop('immediate');
    await own.start();
    for (const pool of [...pools, jobs]) await pool.query('SELECT 1').catch(() => undefined); // drop the dead connections
    assert.equal(await count(), before + 2, 'both acknowledged events are there after the crash');
  });

  test('stuck: an insert waiting on a lock is cut at the statement timeout (503), nothing written', async () => {
    const app = await startApp();
    const before = await count();
    const locker = new pg.Client({ connectionString: own.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      const stuck = await timedPost(app);
      assert.ok(stuck.ms >= STATEMENT_TIMEOUT_MS && stuck.ms < STATEMENT_TIMEOUT_MS + BOUND_MS, `took ${stuck.ms} ms`);
      assert.equal(stuck.res.statusCode, 503);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    assert.equal(await count(), before);
  });

  test('frozen: a server that accepts no connection fails requests at the connect timeout; they recover when it thaws', async () => {
    const app = await startApp({ ...config, auth: { ...config.auth, mode: 'off' } });
    // Its connections opened so far (at start, reading the tenants) go: a frozen postmaster
    // stops new connections only, and this is about a request that needs one.
    await jobs.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE pid <> pg_backend_pid() AND datname = current_database() AND backend_type = 'client backend'`);
    await sleep(100);
    process.kill(own.pid(), 'SIGSTOP');
    try {
      const frozen = await timedPost(app);
      assert.ok(frozen.ms >= CONNECT_TIMEOUT_MS && frozen.ms < CONNECT_TIMEOUT_MS + BOUND_MS, `took ${frozen.ms} ms`);
      assert.equal(frozen.res.statusCode, 503);
      const block = await app.inject({ method: 'GET', url: '/v1/recommendations/popular?limit=3' });
      assert.equal(block.statusCode, 200, 'reads need no PostgreSQL');
    } finally {
      process.kill(own.pid(), 'SIGCONT');
    }
    assert.equal((await timedPost(app)).res.statusCode, 200);
  });
});
