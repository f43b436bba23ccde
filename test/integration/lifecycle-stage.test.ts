// The build's lifecycle stage against real PostgreSQL and Redis: profiles of every customer but
// the opted-out and erased ones, as the pure functions compute them from the same purchases;
// segment moves between builds; opt-out and erasure (also one racing the stage's write).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildModel, buildOptionsFromConfig, type BuildSummary } from '../../jobs/lib/build-model.ts';
import { customerProfiles } from '../../src/lifecycle/profiles.ts';
import { purchaseDays } from '../../src/lifecycle/purchase-days.ts';
import { eraseUser, setOptOut } from '../../src/privacy/users.ts';
import { findProfile, replaceProfiles } from '../../src/store/pg/lifecycle.ts';
import { eraseAsOwner } from '../../src/store/pg/user-locks.ts';
import { eraseRows } from '../../src/store/pg/users.ts';
import { Batch, execOrThrow } from '../../src/store/redis/client.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { queueProfileWrite, readProfileFacts } from '../../src/store/redis/profiles.ts';
import { addPurchases, AS_OF, HAND_MADE, ITEMS, LAST_DAY, loadProducts, simulatedPurchases, START, DAY_MS, type Purchase } from '../fixtures/lifecycle/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

describe('lifecycle stage of the build (real PostgreSQL and Redis)', () => {
  let s: TestServices;
  let first: BuildSummary;
  const keys = () => redisKeys(s.config.redisPrefix);
  const t = () => ({ id: 'default', keys: keys() });
  const build = () => buildModel(s.pool, s.redis, s.config, { ...buildOptionsFromConfig(s.config), workers: 1, quiet: true });
  const profiles = async () => (await s.pool.query('SELECT * FROM lifecycle_profiles ORDER BY user_id')).rows;
  const moves = async (version: number) => (await s.pool.query('SELECT user_id, from_segment, to_segment FROM lifecycle_segment_changes WHERE version = $1 ORDER BY user_id', [version])).rows;
  const purchases: Purchase[] = [...simulatedPurchases(), ...HAND_MADE, ['optout', 'i4', 200], ['optout', 'i4', 300], ['gone', 'i5', 50], ['gone', 'i6', 250]];

  before(async () => {
    s = await startTestServices();
    await loadProducts(s.pool);
    await addPurchases(s.pool, purchases);
    // Views and carts are no purchases: a viewer gets no profile.
    await s.pool.query(
      `INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ('default', 'viewer', 'i1', 'view', '2024-06-01'), ('default', 'viewer', 'i2', 'cart', '2024-06-01')`,
    );
    assert.equal(await setOptOut(s.pool, s.redis, t(), 'optout', true), true);
    await eraseUser(s.pool, s.redis, t(), 'gone');
    first = await build();
  });
  after(async () => {
    await s.close();
  });

  test('every customer but the opted-out and erased has the profile the pure functions give for the same purchases', async () => {
    const kept = purchases.filter(([user]) => user !== 'optout' && user !== 'gone');
    const price = new Map(ITEMS.map(([id, , p]) => [id, p]));
    const expected = customerProfiles(purchaseDays(kept.map(([user, item, day]) => ({ user, ts: (START + day * DAY_MS + DAY_MS / 2) / 1000, revenue: price.get(item)! }))), START / DAY_MS + LAST_DAY);
    const rows = await profiles();
    assert.deepEqual(
      rows.map((r) => r.user_id),
      expected.profiles.map((p) => p.user),
    );
    assert.ok(!rows.some((r) => ['optout', 'gone', 'viewer'].includes(r.user_id)));
    const near = (a: number | null, b: number | null, tolerance: number) => (a === null ? b === null : b !== null && Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b)));
    for (const [i, r] of rows.entries()) {
      const p = expected.profiles[i];
      assert.equal(r.version, first.version);
      assert.deepEqual(
        [r.orders, r.recency_days, r.recency_score, r.frequency_score, r.monetary_score, r.segment],
        [p.orders, p.recencyDays, p.recency, p.frequency, p.monetary, p.segment],
        r.user_id,
      );
      assert.ok(near(r.revenue, p.revenue, 1e-9) && near(r.mean_gap_days, p.meanGapDays, 1e-3), r.user_id);
      // The build fits the same model on the same customers: the same predictions (to the optimiser's precision).
      assert.ok(near(r.p_alive, p.pAlive, 1e-3) && near(r.expected_purchases_30, p.expectedPurchases30, 1e-3), `${r.user_id}: ${r.p_alive} vs ${p.pAlive}`);
    }
    const version = (await s.pool.query('SELECT *, as_of::text AS as_of FROM lifecycle_versions')).rows;
    assert.equal(version.length, 1);
    assert.equal(version[0].as_of, AS_OF);
    assert.equal(version[0].customers, rows.length);
    assert.ok(version[0].bgnbd.converged && version[0].bgnbd.a > 0);
    // Drop-out is real in this shop: some customers are probably gone.
    assert.ok(rows.some((r) => r.p_alive < 0.5) && rows.some((r) => r.p_alive > 0.9));
    assert.equal(first.lifecycle?.customers, rows.length);
    assert.equal(
      Object.values(first.lifecycle!.segments).reduce((a, b) => a + b, 0),
      rows.length,
    );
  });

  test('the Redis copy holds what a request needs, for profiled customers only', async () => {
    const row = (await profiles()).find((r) => r.user_id === 'habit');
    assert.deepEqual(await readProfileFacts(s.redis, keys(), 'habit'), {
      version: first.version,
      segment: row.segment,
      pAlive: row.p_alive,
      recencyDays: 10,
      meanGapDays: 10,
      revenue: 12,
      nextDueDays: row.next_due_days,
    });
    // habit's milk is due (a 10-day habit, last bought 11 days before the end of the reference day).
    assert.deepEqual(
      row.due_items.map((d: { item: string }) => d.item),
      ['i1'],
    );
    assert.ok(row.next_due_days < 0 && row.next_due_days > -5, `due in ${row.next_due_days}`);
    for (const user of ['optout', 'gone', 'viewer']) assert.equal(await s.redis.exists(keys().profile(user)), 0, user);
  });

  test('first profiles are moves from nothing; a second build records exactly the customers whose segment changed', async () => {
    const before = new Map((await profiles()).map((r) => [r.user_id, r.segment]));
    assert.equal((await moves(first.version)).length, before.size);
    assert.ok((await moves(first.version)).every((m) => m.from_segment === null));
    // onceler comes back, buying often and a lot, at the end of the year; a newcomer arrives.
    await addPurchases(s.pool, [...[340, 345, 350, 355, 360, 364].map((d): Purchase => ['onceler', 'i7', d]), ['newcomer', 'i3', 364]]);
    const second = await build();
    const after = new Map((await profiles()).map((r) => [r.user_id, r.segment]));
    const changed = [...after].filter(([user, segment]) => before.get(user) !== segment).map(([user, segment]) => ({ user_id: user, from_segment: before.get(user) ?? null, to_segment: segment }));
    assert.deepEqual(await moves(second.version), changed);
    assert.ok(
      changed.some((m) => m.user_id === 'onceler' && m.from_segment === 'Lost'),
      JSON.stringify(changed.find((m) => m.user_id === 'onceler')),
    );
    assert.ok(changed.some((m) => m.user_id === 'newcomer' && m.from_segment === null));
    assert.equal(second.lifecycle?.moves, changed.length);
  });

  test('opted out after a build: reads leave the profile out at once; the next build drops it and its Redis copy', async () => {
    assert.notEqual(await findProfile(s.pool, 'default', 'drifter'), null);
    await setOptOut(s.pool, s.redis, t(), 'drifter', true);
    assert.equal(await findProfile(s.pool, 'default', 'drifter'), null);
    assert.equal(await readProfileFacts(s.redis, keys(), 'drifter'), null, 'the flag vetoes the Redis copy too');
    await build();
    assert.equal((await s.pool.query(`SELECT 1 FROM lifecycle_profiles WHERE user_id = 'drifter'`)).rowCount, 0);
    assert.equal(await s.redis.exists(keys().profile('drifter')), 0);
  });

  test('erasure deletes the profile, its segment moves and its Redis copy', async () => {
    assert.equal(await s.redis.exists(keys().profile('habit')), 1);
    await eraseUser(s.pool, s.redis, t(), 'habit');
    for (const table of ['lifecycle_profiles', 'lifecycle_segment_changes']) {
      assert.equal((await s.pool.query(`SELECT 1 FROM ${table} WHERE user_id = 'habit'`)).rowCount, 0, table);
    }
    assert.equal(await s.redis.exists(keys().profile('habit')), 0);
  });

  test('a user erased while the profiles are written gets none: the write waits for the erasure and leaves them out', async () => {
    const profile = (await profiles()).find((r) => r.user_id === 'latest');
    assert.ok(profile);
    const { fit, profiles: computed } = customerProfiles(purchaseDays([{ user: 'latest', ts: (START + LAST_DAY * DAY_MS) / 1000, revenue: 4 }]), START / DAY_MS + LAST_DAY);
    let written: ReturnType<typeof replaceProfiles> | undefined;
    await eraseAsOwner(s.pool, 'default', 'latest', async (tx) => {
      const erased = await eraseRows(tx, 'default', 'latest');
      // Deleted, not committed: a replacement starting now must not store the profile.
      written = replaceProfiles(
        s.pool,
        'default',
        999,
        computed.map((p) => ({ ...p, dueItems: [] })),
        fit,
      );
      await sleep(300);
      return erased;
    });
    const replaced = await written!;
    assert.deepEqual([...replaced.excluded], ['latest']);
    assert.equal(replaced.profiles, 0);
    assert.equal((await s.pool.query(`SELECT 1 FROM lifecycle_profiles WHERE user_id = 'latest'`)).rowCount, 0);
  });

  test('the Redis write skips a user whose tombstone is set', async () => {
    await s.redis.set(keys().erased('ghost'), '1');
    const batch = new Batch(s.redis);
    queueProfileWrite(batch, keys(), 600, 'ghost', 1, { segment: 'Lost', pAlive: 1, recencyDays: 3, meanGapDays: null, revenue: 1, nextDueDays: null });
    queueProfileWrite(batch, keys(), 600, 'alive', 1, { segment: 'Lost', pAlive: null, recencyDays: 3, meanGapDays: null, revenue: 1, nextDueDays: null });
    await execOrThrow(batch);
    assert.equal(await s.redis.exists(keys().profile('ghost')), 0);
    assert.deepEqual(await readProfileFacts(s.redis, keys(), 'alive'), { version: 1, segment: 'Lost', pAlive: null, recencyDays: 3, meanGapDays: null, revenue: 1, nextDueDays: null });
    assert.ok((await s.redis.ttl(keys().profile('alive'))) > 500);
  });
});
