import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildModel, buildOptionsFromConfig, type BuildOptions } from '../../jobs/lib/build-model.ts';
import { KEY_LAYOUT, redisKeys } from '../../src/store/redis/keys.ts';
import { BuildLockedError, ModelPublisher } from '../../src/store/redis/model-publisher.ts';
import { allocateModelVersion } from '../../src/store/pg/model-versions.ts';
import { scanKeys, startTestServices, type TestServices } from '../helpers/services.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

// A tiny shop whose similarities are easy to check by hand (binary cosine on purchases):
//   p1 bought by {u1,u2}, p2 by {u1,u2,u3}, p3 by {u2,u3}, p4 by {u4}
//   cos(p1,p2) = 2/√6 = 0.816497   cos(p1,p3) = 1/√4 = 0.5   cos(p2,p3) = 2/√6 = 0.816497
async function loadFixture(s: TestServices): Promise<void> {
  await s.pool.query(`INSERT INTO products (tenant_id, id, title, brand, category, price, in_stock) VALUES
    ('default', 'p1', 'Red Shoe', 'Acme', 'shoes', 10, true), ('default', 'p2', 'Blue Shoe', 'Acme', 'shoes', 20, true),
    ('default', 'p3', 'Bolt Runner', 'Bolt', 'shoes', 30, true), ('default', 'p4', 'Bolt Cap', 'Bolt', 'hats', 5, false),
    ('default', 'p5', 'Acme Beanie', 'Acme', 'hats', 8, true)`);
  const purchases = [
    ['u1', 'p1'],
    ['u1', 'p2'],
    ['u2', 'p1'],
    ['u2', 'p2'],
    ['u2', 'p3'],
    ['u3', 'p2'],
    ['u3', 'p3'],
    ['u4', 'p4'],
  ];
  for (const [i, [user, item]] of purchases.entries()) {
    await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ('default', $1, $2, 'purchase', $3)`, [user, item, new Date(Date.UTC(2024, 0, 1, 0, i))]);
  }
  await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES
    ('default', 'u5', 'p1', 'view', '2024-01-02T10:00:00Z'), ('default', 'u5', 'p3', 'view', '2024-01-02T11:00:00Z'), ('default', 'u5', 'p1', 'view', '2024-01-02T09:00:00Z')`);
}

describe('build job (real PostgreSQL and Redis)', () => {
  let s: TestServices;
  let options: BuildOptions;
  const keys = () => redisKeys(s.config.redisPrefix);
  const build = () => buildModel(s.pool, s.redis, s.config, options);

  before(async () => {
    s = await startTestServices();
    // Purchases only, so the hand-computed similarities above hold.
    s.config.eventWeights = { purchase: 1, cart: 0, view: 0, click: 0 };
    options = { ...buildOptionsFromConfig(s.config), similarity: 'cosine', workers: 1, quiet: true };
    await loadFixture(s);
  });
  after(async () => {
    await s.close();
  });

  test('publishes neighbours, catalog, popularity and user lists, then makes the version live', async () => {
    // u2's purchases as key layout 1 kept them: the users stage replaces them.
    await s.redis.sadd(keys().retiredUserKeys('u2')[0], 'p1');
    const summary = await build();
    assert.equal(summary.previousVersion, null);
    assert.equal(summary.events, 8);
    assert.equal(summary.users, 4);
    assert.equal(summary.items, 4);
    const v = summary.version;
    assert.equal(await s.redis.get(keys().current), String(v));

    const neighbours = async (item: string) => JSON.parse((await s.redis.get(keys().neighbours(v, item)))!);
    assert.deepEqual(await neighbours('p1'), { ids: ['p2', 'p3'], scores: [0.816497, 0.5] });
    // p1 and p3 tie for p2: the smaller id comes first.
    assert.deepEqual(await neighbours('p2'), { ids: ['p1', 'p3'], scores: [0.816497, 0.816497] });
    assert.equal(await s.redis.get(keys().neighbours(v, 'p4')), null, 'an item bought alone has no neighbours');

    assert.deepEqual(JSON.parse((await s.redis.get(keys().item(v, 'p4')))!), {
      id: 'p4',
      title: 'Bolt Cap',
      brand: 'Bolt',
      category: 'hats',
      price: 5,
      currency: null,
      url: null,
      image_url: null,
      in_stock: false,
    });
    assert.deepEqual(await s.redis.zrange(keys().popular(v), '0', '-1'), ['p2', 'p1', 'p3', 'p4'], 'ties by id; p5 (no events) is no recommendation');
    assert.deepEqual(await s.redis.zrange(keys().popular(v, 'hats'), '0', '-1'), ['p4']);
    assert.deepEqual(await s.redis.zrange(keys().brand(v, 'Acme'), '0', '-1'), ['p2', 'p1']);
    assert.deepEqual(await s.redis.zrange(keys().brand(v, 'Bolt'), '0', '-1'), ['p3', 'p4']);

    // Views are mirrored from PostgreSQL: newest first, one entry per item.
    assert.deepEqual(await s.redis.zrevrange(keys().recentlyViewed('u5'), '0', '-1'), ['p3', 'p1']);
    // Purchases too, scored by −(latest time), so read ascending they come newest first: u2 bought
    // p1, p2, p3 at minutes 2, 3, 4.
    const minute = (m: number) => String(-Date.UTC(2024, 0, 1, 0, m));
    assert.deepEqual(await s.redis.zrange(keys().bought('u2'), '0', '-1', 'WITHSCORES'), ['p3', minute(4), 'p2', minute(3), 'p1', minute(2)]);
    assert.equal(await s.redis.get(keys().boughtIds('u2')), 'p3\np2\np1', 'and joined, as requests read them');
    assert.equal(await s.redis.exists(...keys().retiredUserKeys('u2')), 0, 'the layout-1 key is gone');
    const meta = JSON.parse((await s.redis.get(keys().meta(v)))!);
    assert.equal(meta.model, 'itemknn:cosine');
    assert.equal(meta.layout, KEY_LAYOUT);
  });

  test('a second build swaps in a new version and lets the old one expire', async () => {
    const before = Number(await s.redis.get(keys().current));
    const summary = await build();
    assert.equal(summary.previousVersion, before);
    assert.equal(summary.version, before + 1);
    assert.equal(await s.redis.get(keys().current), String(before + 1));
    const oldTtl = await s.redis.ttl(keys().neighbours(before, 'p1'));
    assert.ok(oldTtl > 0 && oldTtl <= s.config.build.oldVersionTtlSeconds, `old version expires (ttl ${oldTtl})`);
    assert.equal(await s.redis.ttl(keys().neighbours(before + 1, 'p1')), -1, 'the live version does not expire');
  });

  test('expiring a version spares the keys of a user whose id looks like a version (":v{N}:")', async () => {
    const live = Number(await s.redis.get(keys().current));
    const user = `x:v${live}:y`;
    await s.redis.set(keys().optOut(user), '1');
    await s.redis.zadd(keys().recentlyViewed(user), Date.now(), 'p1');
    await build();
    assert.ok((await s.redis.ttl(keys().meta(live))) > 0, 'that version expires');
    assert.deepEqual([await s.redis.ttl(keys().optOut(user)), await s.redis.ttl(keys().recentlyViewed(user))], [-1, -1]);
    await s.redis.del(keys().optOut(user), keys().recentlyViewed(user));
  });

  test('two builds never publish at once: the second says when the lock lapses, or waits for it (--wait)', async () => {
    const holder = await ModelPublisher.begin(s.redis, keys(), { oldVersionTtlSeconds: 60, lockTtlMs: 5000 }, (atLeast) => allocateModelVersion(s.pool, 'default', atLeast));
    const refused = await build().then(
      () => null,
      (err: Error) => err,
    );
    assert.ok(refused instanceof BuildLockedError, String(refused));
    assert.match(refused.message, /lapses in [1-5] s unless its holder keeps it: try again then, or pass --wait/);
    const waiting = buildModel(s.pool, s.redis, s.config, { ...options, lockWaitMs: 20_000 });
    await sleep(400);
    await holder.abort();
    assert.ok((await waiting).version > holder.version, 'the waiting build ran once the lock was released');
  });

  test('version numbers come from PostgreSQL: Redis losing its data never makes one come back', async () => {
    const before = Number(await s.redis.get(keys().current));
    for (const key of await scanKeys(s.redis, `${s.config.redisPrefix}*`)) await s.redis.del(key);
    const after = await build();
    assert.ok(after.version > before, `${after.version} > ${before}`);
    assert.equal(after.previousVersion, null, 'nothing was live');
  });

  test('an install whose numbers lived in Redis carries on above them', async () => {
    await s.redis.set(`${keys().current}:seq`, '500');
    assert.ok((await build()).version > 500);
    await s.redis.del(`${keys().current}:seq`);
  });

  test('a build killed half way through publishing leaves the live version serving; the next build succeeds', async () => {
    const live = await s.redis.get(keys().current);
    const liveNeighbours = await s.redis.get(keys().neighbours(Number(live), 'p1'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'jobs/build.ts', '--workers', '1'], {
      cwd: ROOT,
      stdio: 'ignore',
      env: {
        ...process.env,
        DATABASE_URL: s.databaseUrl,
        REDIS_PREFIX: s.config.redisPrefix,
        EVENT_WEIGHTS: 'view=0,cart=0',
        // One key per round trip with a pause: publishing takes seconds, so we can kill it midway.
        BUILD_PUBLISH_BATCH: '1',
        BUILD_PUBLISH_PAUSE_MS: '100',
        BUILD_LOCK_TTL_MS: '1000',
      },
    });
    const next = Number(live) + 1;
    const deadline = Date.now() + 30_000;
    let written: string[] = [];
    while (written.length < 3 && Date.now() < deadline) {
      await sleep(50);
      written = await scanKeys(s.redis, keys().versionPattern(next));
    }
    assert.ok(written.length >= 3, 'the child build started publishing');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    assert.equal(await s.redis.get(keys().current), live, 'the live pointer did not move');
    assert.equal(await s.redis.get(keys().neighbours(Number(live), 'p1')), liveNeighbours, 'the live version is intact');
    assert.equal(await s.redis.get(keys().meta(next)), null, 'the killed build never finished');

    await sleep(1100); // the dead build's lock lapses
    const summary = await build();
    assert.equal(summary.version, next + 1);
    assert.equal(await s.redis.get(keys().current), String(next + 1));
    const orphan = await scanKeys(s.redis, keys().versionPattern(next));
    assert.ok(orphan.length >= 3);
    for (const key of orphan) assert.ok((await s.redis.ttl(key)) > 0, `orphaned key ${key} expires`);
  });
});
