// events partitioned by month (010_events_partitioned.sql, src/store/pg/partitions.ts), against
// a real PostgreSQL: idempotency across partitions, retention, the default partition, erasure,
// and the migration of an existing table.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { buildModel, buildOptionsFromConfig } from '../../jobs/lib/build-model.ts';
import { loadInteractions, readWindowDays } from '../../jobs/lib/load-events.ts';
import { insertEvents, type NewEvent } from '../../src/store/pg/events.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import { eventPartitions, maintainEventPartitions } from '../../src/store/pg/partitions.ts';
import { createPool } from '../../src/store/pg/pool.ts';
import { eraseAsOwner, writeAsUsers } from '../../src/store/pg/user-locks.ts';
import { eraseRows } from '../../src/store/pg/users.ts';
import { DEFAULT_TENANT } from '../../src/tenant.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const MIGRATIONS = fileURLToPath(new URL('../../src/store/pg/migrations/', import.meta.url));

const event = (user: string, item: string, at: string, key: string | null = null): NewEvent => ({
  userId: user,
  itemId: item,
  type: 'purchase',
  quantity: 1,
  price: null,
  occurredAt: new Date(at),
  requestId: null,
  idempotencyKey: key,
});

describe('events partitioned by month (real PostgreSQL)', () => {
  let s: TestServices;
  const insert = (events: NewEvent[], tenant = DEFAULT_TENANT) =>
    writeAsUsers(
      s.pool,
      tenant,
      events.map((e) => e.userId),
      (tx) => insertEvents(tx, tenant, events),
    );
  const count = async (table: string, where = 'true') => (await s.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`)).rows[0].n as number;

  before(async () => {
    s = await startTestServices();
  });
  after(async () => {
    await s.close();
  });

  test('the same idempotency key in two months is one event; keys of another tenant are their own', async () => {
    await maintainEventPartitions(s.pool, { retentionMonths: 0, aheadMonths: 3 }, new Date('2025-01-15T00:00:00Z'));
    await s.pool.query(`INSERT INTO tenants (id) VALUES ('other')`);
    const first = await insert([event('ann', 'a', '2025-01-10T00:00:00Z', 'order-1')]);
    const again = await insert([event('ann', 'a', '2025-03-10T00:00:00Z', 'order-1'), event('ann', 'b', '2025-03-10T00:00:00Z', 'order-2'), event('ann', 'c', '2025-03-11T00:00:00Z', 'order-2')]);
    assert.equal(first.length, 1);
    assert.deepEqual(
      again.map((e) => e.item),
      ['b'],
      'a key seen in January is refused in March; a key twice in one batch counts once',
    );
    assert.deepEqual(
      (await insert([event('ann', 'a', '2025-03-10T00:00:00Z', 'order-1')], 'other')).map((e) => e.item),
      ['a'],
    );
    const { rows } = await s.pool.query(`SELECT tableoid::regclass::text AS part, item_id FROM events WHERE idempotency_key IN ('order-1', 'order-2') ORDER BY tenant_id, item_id`);
    assert.deepEqual(rows, [
      { part: 'events_p2025_01', item_id: 'a' },
      { part: 'events_p2025_03', item_id: 'b' },
      { part: 'events_p2025_03', item_id: 'a' },
    ]);
    // Concurrent batches with the same key: one wins, whichever partition each would land in.
    const racing = await Promise.all([1, 2, 3, 4].map((m) => insert([event('bob', `r${m}`, `2025-0${m}-05T00:00:00Z`, 'race-1')])));
    assert.equal(racing.flat().length, 1);
    assert.equal(await count('events', `idempotency_key = 'race-1'`), 1);
  });

  test('a far-past or far-future timestamp still inserts (default partition); maintenance moves rows once their month has a partition', async () => {
    const stored = await insert([event('cid', 'old', '1901-06-01T00:00:00Z', 'far-1'), event('cid', 'new', '2999-01-01T00:00:00Z', 'far-2')]);
    assert.equal(stored.length, 2);
    assert.equal(await count('events_default', `user_id = 'cid'`), 2);
    const report = await maintainEventPartitions(s.pool, { retentionMonths: 0, aheadMonths: 1 }, new Date('2025-03-15T00:00:00Z'));
    assert.deepEqual(report.created, ['events_p1901_06']);
    assert.equal(report.moved, 1);
    assert.equal(await count('events_p1901_06', `user_id = 'cid'`), 1);
    assert.deepEqual((await s.pool.query(`SELECT item_id FROM events_default`)).rows, [{ item_id: 'new' }], 'the far future stays in the default partition');
    assert.equal(await count('events', `user_id = 'cid'`), 2, 'moved, not lost');
    assert.equal((await insert([event('cid', 'old', '1901-06-01T00:00:00Z', 'far-1')])).length, 0, 'the moved row keeps its key');
  });

  test('retention drops whole months before the cutoff with their keys, and nothing else', async () => {
    const before = await s.pool.query(`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM events GROUP BY 1 ORDER BY 1`);
    const keysBefore = await count('event_idempotency');
    // On 2025-03-15 with one month kept: February and March stay; January 2025 and June 1901 go,
    // and so do the default partition's rows before the cutoff (none: 2999 is in the future).
    const report = await maintainEventPartitions(s.pool, { retentionMonths: 1, aheadMonths: 1 }, new Date('2025-03-15T00:00:00Z'));
    assert.deepEqual(report.dropped, ['events_p1901_06', 'events_p2025_01']);
    assert.deepEqual(report.deferred, []);
    const gone = before.rows.filter((r) => report.dropped.includes(r.part));
    const after = await s.pool.query(`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM events GROUP BY 1 ORDER BY 1`);
    assert.deepEqual(
      after.rows,
      before.rows.filter((r) => !report.dropped.includes(r.part)),
      'every other partition keeps every row',
    );
    // Each dropped event had a key: the keys go with them.
    assert.equal(await count('event_idempotency'), keysBefore - gone.reduce((sum, r) => sum + r.n, 0));
    assert.equal(await count('event_idempotency', `idempotency_key IN ('far-1', 'order-1')`), 1, "only the other tenant's order-1 is left");
    const names = (await eventPartitions(s.pool)).map((p) => p.name);
    assert.deepEqual(
      names.filter((n) => n < 'events_p2025_05'),
      ['events_p2025_02', 'events_p2025_03', 'events_p2025_04'],
    );
    // A dropped month's key is free again: its event is gone.
    assert.equal((await insert([event('ann', 'a', '2025-03-01T00:00:00Z', 'order-1')])).length, 1);
  });

  test('erasure deletes every event of the user in every partition, and their idempotency keys', async () => {
    await insert([
      event('eve', 'x', '2025-02-01T00:00:00Z', 'eve-1'),
      event('eve', 'y', '2025-03-01T00:00:00Z', 'eve-2'),
      event('eve', 'z', '2999-05-01T00:00:00Z'),
      event('fay', 'x', '2025-03-01T00:00:00Z', 'fay-1'),
    ]);
    const erased = await eraseAsOwner(s.pool, DEFAULT_TENANT, 'eve', (tx) => eraseRows(tx, DEFAULT_TENANT, 'eve'));
    assert.equal(erased.events, 3);
    assert.equal(await count('events', `user_id = 'eve'`), 0);
    assert.equal(await count('event_idempotency', `idempotency_key LIKE 'eve-%'`), 0);
    assert.equal(await count('event_idempotency', `idempotency_key = 'fay-1'`), 1, "another user's key stays");
  });
});

describe('migration 010 of an existing events table (real PostgreSQL)', () => {
  let s: TestServices;
  before(async () => {
    s = await startTestServices();
  });
  after(async () => {
    await s.close();
  });

  /** A fresh database migrated with only the files `keep` accepts. */
  async function databaseAt(name: string, keep: (file: string) => boolean): Promise<{ pool: pg.Pool; url: string; drop(): Promise<void> }> {
    await s.pool.query(`DROP DATABASE IF EXISTS ${name}`);
    await s.pool.query(`CREATE DATABASE ${name}`);
    const url = new URL(s.databaseUrl);
    url.pathname = `/${name}`;
    const pool = createPool(url.toString(), 3);
    const dir = await mkdtemp(join(tmpdir(), 'recs-migrations-'));
    for (const f of (await readdir(MIGRATIONS)).filter(keep)) await copyFile(join(MIGRATIONS, f), join(dir, f));
    await migrate(pool, `${dir}/`);
    await rm(dir, { recursive: true });
    return {
      pool,
      url: url.toString(),
      async drop() {
        await pool.end();
        await s.pool.query(`DROP DATABASE ${name} WITH (FORCE)`);
      },
    };
  }

  async function fill(pool: pg.Pool, types: string[]): Promise<void> {
    await pool.query(`INSERT INTO tenants (id) VALUES ('shop2')`);
    // Rows over 14 months, one far in the past and one far in the future, with and without keys,
    // in two tenants (the same key in both), every column set somewhere.
    await pool.query(
      `INSERT INTO events (tenant_id, user_id, item_id, type, quantity, price, weight, occurred_at, received_at, request_id, idempotency_key, source, position, variant)
      SELECT CASE WHEN g % 7 = 0 THEN 'shop2' ELSE 'default' END, 'u' || (g % 13), 'i' || (g % 29), ($1::text[])[1 + g % cardinality($1::text[])],
        1 + g % 3, CASE WHEN g % 2 = 0 THEN g * 0.25 END, CASE WHEN g % 5 = 0 THEN 4.5 END,
        timestamptz '2024-01-01T00:00:00Z' + make_interval(hours => g * 7), now(), CASE WHEN g % 4 = 0 THEN 'req-' || g END,
        CASE WHEN g % 3 <> 0 THEN 'key-' || CASE WHEN g % 7 = 0 THEN g - 1 ELSE g END END, 'test', CASE WHEN g % 4 = 0 THEN 1 + g % 5 END, CASE WHEN g % 4 = 0 THEN 'B' END
      FROM generate_series(1, 1500) AS g`,
      [types],
    );
    await pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at, idempotency_key) VALUES
      ('default', 'old', 'i1', 'view', '1970-01-01T00:00:00Z', 'epoch'), ('default', 'future', 'i1', 'view', '2300-01-01T00:00:00Z', NULL)`);
  }

  const snapshot = async (pool: pg.Pool) => ({
    rows: (
      await pool.query(
        `SELECT id, tenant_id, user_id, item_id, type, quantity, price, weight, occurred_at, received_at, request_id, idempotency_key, source, position, variant FROM events ORDER BY id`,
      )
    ).rows,
    keys: (await pool.query(`SELECT tenant_id, idempotency_key FROM events WHERE idempotency_key IS NOT NULL ORDER BY 1, 2`)).rows,
  });

  for (const [label, keep, types] of [
    ['before 020 (a fresh install of the older code)', (f: string) => f < '010', ['view', 'cart', 'purchase', 'click']],
    ['after 020 (an install that had it before 010 existed)', (f: string) => !f.startsWith('010_'), ['view', 'cart', 'purchase', 'click', 'impression']],
  ] as const) {
    test(`keeps every row, column and key of a table migrated ${label}`, async () => {
      const db = await databaseAt(`${s.databaseUrl.split('/').pop()}_m${label.length}`, keep);
      try {
        await fill(db.pool, [...types]);
        const {
          rows: [old],
        } = await db.pool.query(`SELECT relkind FROM pg_class WHERE relname = 'events'`);
        assert.equal(old.relkind, 'r', 'a plain table before');
        const before = await snapshot(db.pool);
        const { applied } = await migrate(db.pool);
        assert.ok(applied.includes('010_events_partitioned.sql'));
        const {
          rows: [now],
        } = await db.pool.query(`SELECT relkind FROM pg_class WHERE relname = 'events'`);
        assert.equal(now.relkind, 'p', 'partitioned after');
        const afterwards = await snapshot(db.pool);
        assert.equal(afterwards.rows.length, 1502);
        assert.deepEqual(afterwards.rows, before.rows, 'every row, every column');
        assert.deepEqual((await db.pool.query(`SELECT tenant_id, idempotency_key FROM event_idempotency ORDER BY 1, 2`)).rows, before.keys, 'every key claimed');
        assert.equal((await db.pool.query(`SELECT count(*)::int AS n FROM events_default`)).rows[0].n, 1, 'only the far future is left to the default partition');
        // The id sequence carries on, and idempotency holds for the copied keys.
        const {
          rows: [inserted],
        } = await db.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ('default', 'n', 'i', 'impression', now()) RETURNING id`);
        assert.ok(inserted.id > Math.max(...before.rows.map((r) => r.id)));
        const repeat = await writeAsUsers(db.pool, DEFAULT_TENANT, ['u1'], (tx) =>
          insertEvents(tx, DEFAULT_TENANT, [event('u1', 'i1', '2024-06-01T00:00:00Z', 'key-1'), event('u1', 'i1', '2024-06-01T00:00:00Z', 'epoch')]),
        );
        assert.deepEqual(repeat, []);
      } finally {
        await db.drop();
      }
    });
  }
});

describe('what the build reads (real PostgreSQL)', () => {
  let s: TestServices;
  before(async () => {
    s = await startTestServices();
  });
  after(async () => {
    await s.close();
  });

  test('the window: BUILD_WINDOW_DAYS, and ten half-lives when the fit decays (not for LLR, which counts every event)', async () => {
    const spec = { model: 'itemknn', similarity: 'cosine', weighted: true, halfLifeDays: 7 } as const;
    assert.equal(readWindowDays(spec, 0), 70);
    assert.equal(readWindowDays(spec, 30), 30);
    assert.equal(readWindowDays({ ...spec, similarity: 'llr' }, 0), 0);
    assert.equal(readWindowDays({ ...spec, similarity: 'llr' }, 30), 30);
    assert.equal(readWindowDays({ ...spec, weighted: false, halfLifeDays: 0 }, 0), 0);

    await maintainEventPartitions(s.pool, { retentionMonths: 0, aheadMonths: 0 }, new Date('2024-01-15T00:00:00Z'));
    await maintainEventPartitions(s.pool, { retentionMonths: 0, aheadMonths: 0 }, new Date('2024-03-15T00:00:00Z'));
    await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES
      ('default', 'u1', 'old', 'purchase', '2024-01-10T00:00:00Z'), ('default', 'u1', 'edge', 'purchase', '2024-02-09T00:00:00Z'),
      ('default', 'u1', 'new', 'purchase', '2024-03-10T00:00:00Z'), ('default', 'u2', 'new', 'view', '2024-03-10T00:00:00Z'),
      -- Stamped in the future (a wrong clock): read, but not where the window is measured from.
      ('default', 'u3', 'late', 'purchase', now() + interval '5 years')`);
    const weights = { purchase: 1, cart: 0, view: 0, click: 0 };
    const items = async (windowDays: number) => (await loadInteractions(s.pool, DEFAULT_TENANT, weights, windowDays)).itemIds;
    assert.deepEqual(await items(0), ['edge', 'late', 'new', 'old']);
    assert.deepEqual(await items(30), ['edge', 'late', 'new'], '30 days before the newest purchase not in the future');
    // The planner leaves out the months before the window.
    const { rows } = await s.pool.query(`EXPLAIN SELECT 1 FROM events WHERE tenant_id = 'default' AND occurred_at >= '2024-02-09T00:00:00Z'`);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.doesNotMatch(plan, /events_p2024_01/);
    assert.match(plan, /events_p2024_03/);
  });

  test('BUILD_DATABASE_URL: events are read from the replica, the model version is written to the primary', async () => {
    const replica = `${s.databaseUrl.split('/').pop()}_replica`;
    await s.pool.query(`CREATE DATABASE ${replica}`);
    const url = new URL(s.databaseUrl);
    url.pathname = `/${replica}`;
    const readPool = createPool(url.toString(), 3);
    try {
      await migrate(readPool);
      // The primary's events are those of the test above; the replica has other ones.
      await readPool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES
        ('default', 'r1', 'ra', 'purchase', '2024-03-01T00:00:00Z'), ('default', 'r1', 'rb', 'purchase', '2024-03-01T00:00:00Z'),
        ('default', 'r2', 'ra', 'purchase', '2024-03-02T00:00:00Z')`);
      const summary = await buildModel(s.pool, s.redis, s.config, { ...buildOptionsFromConfig(s.config), readPool, workers: 1, quiet: true });
      assert.deepEqual([summary.events, summary.users, summary.items], [3, 2, 2]);
      assert.equal((await s.pool.query('SELECT count(*)::int AS n FROM model_versions WHERE version = $1', [summary.version])).rows[0].n, 1);
      assert.equal((await readPool.query('SELECT count(*)::int AS n FROM model_versions')).rows[0].n, 0);
    } finally {
      await readPool.end();
      await s.pool.query(`DROP DATABASE ${replica} WITH (FORCE)`);
    }
  });
});
