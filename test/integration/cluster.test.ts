// The service on a real Redis Cluster (3 masters, 3 replicas: the one of scripts/services.sh,
// started on demand): the real build publishes, the API answers through its own fail-fast client,
// events, erasure, opt-out and a second tenant, with their keys spread over every master. No
// command of all this may span slots: Redis counts each CROSSSLOT refusal (INFO errorstats), and
// the last test checks that count did not move. `npm run test:cluster` also runs the integration
// tests of one Redis (recommendations, events, build, privacy, tenants, email) on this cluster.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { Cluster } from 'ioredis';
import { buildModel, buildOptionsFromConfig } from '../../jobs/lib/build-model.ts';
import { buildApp } from '../../src/app.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { ensureTenant } from '../../src/store/pg/tenants.ts';
import { createServingClient, deleteMatching, getMany, masters, scanEach, type RedisClient } from '../../src/store/redis/client.ts';
import { keySlot, redisKeys, SLOTS } from '../../src/store/redis/keys.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { sharedClusterNodes } from '../helpers/cluster.ts';
import { scanKeys, startTestServices, type TestServices } from '../helpers/services.ts';

const TENANT = 'north';

/** Refusals of commands whose keys span slots, summed over the masters. */
async function crossSlotRefusals(redis: RedisClient): Promise<number> {
  let count = 0;
  for (const node of await masters(redis)) count += Number(/errorstat_CROSSSLOT:count=(\d+)/.exec(await node.info('errorstats'))?.[1] ?? 0);
  return count;
}

describe('Redis Cluster: build, API, events, erasure, opt-out and a tenant, on 3 masters', () => {
  let s: TestServices;
  let cluster: Cluster;
  let api: RedisClient;
  let app: FastifyInstance;
  let refusalsBefore: number;
  const apiKey: Record<string, string> = {};
  const keys = (tenant?: string) => redisKeys(s.config.redisPrefix, tenant);
  const masterOf = (key: string) => cluster.slots[keySlot(key)][0];
  const call = (tenant: string, options: InjectOptions | string) => {
    const o = typeof options === 'string' ? { url: options } : options;
    return app.inject({ ...o, headers: { ...o.headers, 'x-api-key': apiKey[tenant] } });
  };
  const ids = (body: { items: { id: string }[] }) => body.items.map((i) => i.id);
  /** Users whose keys live on every master, `perMaster` each. */
  const spreadUsers = (prefix: string, perMaster: number) => {
    const byMaster = new Map<string, string[]>();
    for (let i = 0; [...byMaster.values()].filter((u) => u.length >= perMaster).length < 3; i++) {
      const user = `${prefix}${i}`;
      const list = byMaster.get(masterOf(keys().recentlyViewed(user))) ?? [];
      if (list.length < perMaster) byMaster.set(masterOf(keys().recentlyViewed(user)), [...list, user]);
    }
    return [...byMaster.values()].flat();
  };

  before(async () => {
    s = await startTestServices({}, { cluster: await sharedClusterNodes() });
    s.config.serving.modelRefreshMs = 1;
    cluster = s.redis as Cluster;
    refusalsBefore = await crossSlotRefusals(s.redis);
    await loadShop(s.pool);
    await buildShop(s);
    await ensureTenant(s.pool, TENANT);
    await s.pool.query(`INSERT INTO products (tenant_id, id, title) VALUES ($1, 'a1', 'North Kettle'), ($1, 'n7', 'North Lamp')`, [TENANT]);
    for (const user of ['u1', 'u2']) {
      for (const item of ['a1', 'n7']) await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ($1, $2, $3, 'purchase', now())`, [TENANT, user, item]);
    }
    await buildModel(s.pool, s.redis, s.config, { ...buildOptionsFromConfig(s.config), tenant: TENANT, similarity: 'cooccurrence', workers: 1, quiet: true });
    for (const tenant of ['default', TENANT]) {
      apiKey[tenant] = (await createApiKey(s.pool, { name: tenant, tenants: [tenant], scope: 'write', origins: [], rate: { limit: 100_000, windowSeconds: 1 } })).key;
    }
    // The API's own client: fail fast, writes of one event-loop turn coalesced per node.
    api = createServingClient(s.config);
    await once(api, 'ready');
    app = await buildApp(s.config, { pool: s.pool, redis: api }, { logger: false });
  });
  after(async () => {
    await app.close();
    api.disconnect();
    await s.close();
  });

  test("slots: ours are Redis's; a user's keys, mails and flags marker share one; model keys on every master", async () => {
    const slotOf = async (key: string) => Number(await cluster.cluster('KEYSLOT', key));
    for (const key of ['a', 'x{}y', '{}{a}', 'é}{ü}', 'foo{bar}{zap}', '日本{語}', keys().flagsSyncedIn(SLOTS - 1)]) {
      assert.equal(keySlot(key), await slotOf(key), key);
    }
    for (const tenant of [undefined, TENANT]) {
      const k = keys(tenant);
      for (const user of ['u1', 'a}:m', '{x}', 'é', 'x:v1:y']) {
        const slots = new Set(await Promise.all([...k.userKeys(user), k.erased(user), k.mail(user, 'm}1'), k.flagsSyncedIn(k.userSlot(user))].map(slotOf)));
        assert.deepEqual([...slots], [k.userSlot(user)], `${tenant} ${user}`);
      }
    }
    const version = Number(await cluster.get(keys().current));
    const perMaster = new Map<string, number>();
    for await (const { node, keys: found } of scanEach(cluster, keys().versionPattern(version))) {
      const name = `${node.options.host}:${node.options.port}`;
      perMaster.set(name, (perMaster.get(name) ?? 0) + found.length);
    }
    assert.equal(perMaster.size, 3, `model keys on every master: ${[...perMaster]}`);
    // Keys in several slots: one MGET would be refused; getMany reads them all, in order.
    const items = ['a1', 'a2', 'b1', 'c1', 'nope'];
    assert.ok(new Set(items.map((i) => masterOf(keys().item(version, i)))).size > 1);
    const values = await getMany(
      api,
      items.map((i) => keys().item(version, i)),
    );
    assert.deepEqual(
      values.map((v) => (v === null ? null : JSON.parse(v).id)),
      ['a1', 'a2', 'b1', 'c1', null],
    );
  });

  test("the API's commands of one event-loop turn reach each master in one read", async () => {
    const reads = async () => {
      let total = 0;
      for (const node of await masters(cluster)) total += Number(/total_reads_processed:(\d+)/.exec(await node.info('stats'))![1]);
      return total;
    };
    const users = spreadUsers('turn-', 20);
    // Connected to every master first (a connection not yet made is not corked).
    await Promise.all(users.map((user) => api.exists(keys().recentlyViewed(user))));
    const before = await reads();
    await Promise.all(users.map((user) => api.exists(keys().recentlyViewed(user))));
    // 60 commands; per master one read, our INFO, and now and then a replica's ACK or a slot
    // map refresh (uncoalesced, the 60 took 68 reads).
    const extra = (await reads()) - before;
    assert.ok(extra <= 3 * 6, `60 commands of one turn took ${extra} reads on 3 masters`);
  });

  test("recommendations: by item, by user (history script with its slot's marker), popular", async () => {
    const byItem = (await call('default', '/v1/recommendations/collaborative?item=a2&limit=3')).json();
    assert.deepEqual(
      byItem.items.map((i: { id: string; similarity: number }) => [i.id, i.similarity]),
      [
        ['a1', 2],
        ['b1', 2],
        ['a3', 1],
      ],
    );
    const byUser = (await call('default', '/v1/recommendations/collaborative?user=u4&limit=2&fallback=false')).json();
    assert.equal(byUser.degraded, undefined);
    assert.deepEqual(ids(byUser), ['a1', 'a3'], 'u4 bought a2, b1, b2');
    assert.deepEqual(ids((await call('default', '/v1/recommendations/popular?limit=3')).json()), ['a1', 'a2', 'b1']);
    assert.equal((await call('default', '/ready')).statusCode, 200);
  });

  test('events: one batch of users on every master, each written on its own node', async () => {
    const users = spreadUsers('buyer-', 3);
    const res = await call('default', {
      method: 'POST',
      url: '/v1/events',
      payload: {
        events: users.flatMap((user) => [
          { user_id: user, item_id: 'c1', type: 'view' },
          { user_id: user, item_id: 'b2', type: 'purchase' },
        ]),
      },
    });
    assert.deepEqual(res.json(), { accepted: 2 * users.length, duplicates: 0, dropped: 0 });
    for (const user of users) {
      assert.deepEqual(await cluster.zrange(keys().recentlyViewed(user), '0', '-1'), ['c1'], user);
      assert.equal(await cluster.get(keys().boughtIds(user)), 'b2', user);
    }
    const seen = (await call('default', `/v1/recommendations/recently-viewed?user=${users[0]}&limit=1&fallback=false`)).json();
    assert.deepEqual(ids(seen), ['c1']);
  });

  test("erasure: the user's keys and mails go from their node; a tombstone stays", async () => {
    const [user] = spreadUsers('leaver-', 1);
    await call('default', { method: 'POST', url: '/v1/events', payload: { events: [{ user_id: user, item_id: 'a1', type: 'view' }] } });
    for (const mail of ['m1', 'm*2']) await cluster.hset(keys().mail(user, mail), 'block', '{}');
    await cluster.set(keys().mail('bystander', 'm1'), '{}');
    const res = await call('default', { method: 'DELETE', url: `/v1/users/${user}` });
    assert.equal(res.json().redis_keys_deleted, 3, 'recently viewed and two mails');
    assert.deepEqual(
      (await scanKeys(cluster, `${s.config.redisPrefix}*{${user}}*`)).map((k) => k.slice(s.config.redisPrefix.length)),
      [`erased:{${user}}`],
    );
    assert.equal(await cluster.exists(keys().mail('bystander', 'm1')), 1);
    const late = await call('default', { method: 'POST', url: '/v1/events', payload: { events: [{ user_id: user, item_id: 'a2', type: 'view' }] } });
    assert.equal(late.json().dropped, 1);
  });

  test('opt-out: non-personal answers at once; the next build leaves the user out', async () => {
    const before = await buildShop(s);
    assert.equal((await call('default', { method: 'POST', url: '/v1/users/u4/preferences', payload: { personalization_opt_out: true } })).statusCode, 200);
    const res = (await call('default', '/v1/recommendations/collaborative?user=u4&limit=2')).json();
    assert.deepEqual([res.opted_out, res.sources], [true, ['popular']]);
    assert.equal((await buildShop(s)).users, before.users - 1, 'u4 no longer shapes the model');
    await call('default', { method: 'POST', url: '/v1/users/u4/preferences', payload: { personalization_opt_out: false } });
  });

  test("a node that lost its data lost its slots' markers with the flags: only its users wait for the copy", async () => {
    const [lost, kept] = spreadUsers('flagged-', 1);
    for (const user of [lost, kept]) {
      await call('default', { method: 'POST', url: '/v1/events', payload: { events: [{ user_id: user, item_id: 'c2', type: 'view' }] } });
      await call('default', { method: 'POST', url: `/v1/users/${user}/preferences`, payload: { personalization_opt_out: true } });
    }
    await call('default', { method: 'POST', url: `/v1/users/${kept}/preferences`, payload: { personalization_opt_out: false } });
    // What a node restarted empty loses of `lost`'s slot: the flag and the marker (its views came back with an event since).
    const k = keys();
    await cluster.del(k.optOut(lost));
    await cluster.del(k.flagsSyncedIn(k.userSlot(lost)));
    assert.deepEqual(ids((await call('default', `/v1/recommendations/recently-viewed?user=${kept}&limit=1&fallback=false`)).json()), ['c2'], 'other slots answer as before');
    const during = (await call('default', `/v1/recommendations/recently-viewed?user=${lost}&limit=3`)).json();
    assert.equal(during.degraded, true, 'made without their history');
    assert.ok(!ids(during).includes('c2'));
    // That read asked for the copy; the marker comes back once the flags are in.
    const deadline = Date.now() + 20_000;
    while ((await cluster.exists(k.flagsSyncedIn(k.userSlot(lost)))) === 0) {
      assert.ok(Date.now() < deadline, 'the flags were not copied back');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await cluster.get(k.optOut(lost)), '1');
    assert.equal((await call('default', `/v1/recommendations/recently-viewed?user=${lost}&limit=3`)).json().opted_out, true);
  });

  test("a second tenant: its keys under t:north:, its users' tags carry it, its answers its own", async () => {
    const version = Number(await cluster.get(keys(TENANT).current));
    assert.ok(await cluster.get(keys(TENANT).item(version, 'n7')));
    assert.match(keys(TENANT).recentlyViewed('u1'), /t:north:rv:\{north:u1\}$/);
    const res = (await call(TENANT, '/v1/recommendations/collaborative?item=a1&limit=5')).json();
    assert.deepEqual(
      res.items.map((i: { id: string; title: string }) => [i.id, i.title]),
      [['n7', 'North Lamp']],
    );
    assert.deepEqual(ids((await call('default', '/v1/recommendations/collaborative?item=a1&limit=2&fallback=false')).json()), ['a2', 'a3']);
  });

  test('a rebuild expires the old version on every master, and deleteMatching clears every master', async () => {
    const old = Number(await cluster.get(keys().current));
    await buildShop(s);
    const ttls: number[] = [];
    const nodes = new Set<string>();
    for await (const { node, keys: found } of scanEach(cluster, keys().versionPattern(old))) {
      nodes.add(`${node.options.host}:${node.options.port}`);
      for (const key of found) ttls.push(await node.ttl(key));
    }
    assert.equal(nodes.size, 3);
    assert.ok(ttls.length > 0 && ttls.every((t) => t > 0 && t <= s.config.build.oldVersionTtlSeconds), `ttls ${ttls}`);
    const scratch = `${s.config.redisPrefix}scratch:`;
    for (let i = 0; i < 30; i++) await cluster.set(`${scratch}${i}`, '1');
    assert.equal(await deleteMatching(cluster, `${scratch}*`), 30);
    assert.deepEqual(await scanKeys(cluster, `${scratch}*`), []);
  });

  test('no command of all the above spanned slots (CROSSSLOT refusals on the masters unchanged)', async () => {
    assert.equal(await crossSlotRefusals(s.redis), refusalsBefore);
  });
});
