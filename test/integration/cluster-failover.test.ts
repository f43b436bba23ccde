// A Redis Cluster failover under traffic, on a private cluster (3 masters, 3 replicas, made by
// scripts/services.sh on free ports, so the shared one is never disturbed): CLUSTER FAILOVER on
// the replica of the master that holds the users' keys, while recommendation requests and event
// batches keep coming through the API's own fail-fast client. Answers may degrade while the
// replica takes over, never fail otherwise; they are whole again without a restart; every event
// acknowledged is in PostgreSQL, and the users' Redis keys agree with it after the next build;
// users' kept results follow their writes again once the promoted master's tracking is armed.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { Redis, type Cluster } from 'ioredis';
import { buildApp } from '../../src/app.ts';
import { createServingClient, type RedisClient } from '../../src/store/redis/client.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { buildShop, loadShop, PRODUCTS } from '../fixtures/recs/shop.ts';
import { startOwnCluster, type OwnCluster } from '../helpers/own-services.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const KINDS = ['personal', 'recently-viewed', 'popular', 'events'] as const;
type Kind = (typeof KINDS)[number];
interface Answer {
  kind: Kind;
  at: number;
  status: number;
  degraded: boolean;
  key?: string;
}

// Enough normal answers of every kind after the promotion to call it recovered.
const RECOVERED_AFTER = 30;

describe('Redis Cluster failover during traffic (a private cluster)', () => {
  let own: OwnCluster;
  let s: TestServices;
  let api: RedisClient;
  let app: FastifyInstance;
  const keys = () => redisKeys(s.config.redisPrefix);

  before(async () => {
    own = await startOwnCluster();
    s = await startTestServices({}, { cluster: own.nodes });
    s.config.serving.modelRefreshMs = 100;
    await loadShop(s.pool);
    await buildShop(s);
    api = createServingClient(s.config);
    // Failover errors are expected here (the server would log them as an outage).
    api.on('error', () => undefined);
    api.on('node error', () => undefined);
    await once(api, 'ready');
    app = await buildApp(s.config, { pool: s.pool, redis: api }, { logger: false });
  });
  after(async () => {
    await app?.close();
    api?.disconnect();
    await s?.close();
    await own?.close();
  });

  test('CLUSTER FAILOVER on a replica: bounded degradation, recovery without a restart, nothing acknowledged lost', async (t) => {
    const cluster = s.redis as Cluster;
    // Users whose keys live on the master that fails over (the first user's).
    const master = cluster.slots[keys().userSlot('u1')][0];
    // Its replica, from the cluster's own table: `id host:port@bus flags master-id ...` per node.
    const table = String(await cluster.cluster('NODES'))
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    const masterId = table.find(([, address]) => address.startsWith(`${master}@`))![0];
    const replica = table.find(([, , , of]) => of === masterId)![1].split('@')[0];
    const users = Array.from({ length: 400 }, (_, i) => `fo-${i}`)
      .filter((u) => cluster.slots[keys().userSlot(u)][0] === master)
      .slice(0, 8);
    assert.equal(users.length, 8);
    const items = PRODUCTS.map(([id]) => id);
    const answers: Answer[] = [];
    let sent = 0;
    let stop = false;

    const request = async (kind: Kind): Promise<Answer> => {
      const n = sent++;
      const user = users[n % users.length];
      const at = performance.now();
      if (kind === 'events') {
        const key = `fo-event-${n}`;
        const res = await app.inject({
          method: 'POST',
          url: '/v1/events',
          payload: { events: [{ user_id: user, item_id: items[n % items.length], type: 'view', occurred_at: new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString(), idempotency_key: key }] },
        });
        return { kind, at, status: res.statusCode, degraded: false, key: res.statusCode === 200 && res.json().accepted === 1 ? key : undefined };
      }
      const url =
        kind === 'personal'
          ? `/v1/recommendations/collaborative?user=${user}&limit=4`
          : kind === 'recently-viewed'
            ? `/v1/recommendations/recently-viewed?user=${user}&limit=4`
            : '/v1/recommendations/popular?limit=4';
      const res = await app.inject({ method: 'GET', url });
      return { kind, at, status: res.statusCode, degraded: res.statusCode === 200 && res.json().degraded === true };
    };
    const traffic = Promise.all(
      Array.from({ length: 4 }, async (_, lane) => {
        for (let i = lane; !stop; i++) answers.push(await request(KINDS[i % KINDS.length]));
      }),
    );
    const normal = (a: Answer) => a.status === 200 && !a.degraded;
    const until = async (what: string, condition: () => boolean | Promise<boolean>, ms = 30_000) => {
      const deadline = Date.now() + ms;
      while (!(await condition())) {
        assert.ok(Date.now() < deadline, `${what} (within ${ms / 1000} s)`);
        await sleep(20);
      }
    };

    try {
      let failoverAt = Infinity;
      await until('traffic answers normally before the failover', () => KINDS.every((kind) => answers.filter((a) => a.kind === kind && normal(a)).length >= 10));
      const [host, port] = replica.split(':');
      const promoted = new Redis(Number(port), host);
      try {
        await until('the replica is in sync', async () => /master_link_status:up/.test(await promoted.info('replication')));
        failoverAt = performance.now();
        assert.equal(await promoted.cluster('FAILOVER'), 'OK');
        await until('the replica took over', async () => /role:master/.test(await promoted.info('replication')));
      } finally {
        promoted.disconnect();
      }
      const promotedAt = performance.now();
      await until('answers are whole again without a restart', () => {
        const since = answers.filter((a) => a.at > promotedAt);
        return KINDS.every((kind) => since.filter((a) => a.kind === kind && normal(a)).length >= RECOVERED_AFTER);
      });
      // (A busy test machine degrades an answer now and then by itself: they are counted, not failed.)
      const odd = answers.filter((a) => !normal(a));
      // Degraded answers (200, "degraded") and 503s for what no cache could answer; never a 500.
      assert.deepEqual(
        odd.filter((a) => (a.kind === 'events' ? a.status !== 200 : a.status !== 200 && a.status !== 503)),
        [],
        'only degraded answers or 503s',
      );
      t.diagnostic(
        `${answers.length} requests; ${odd.length} degraded or 503 in all; the replica took over in ${Math.round(promotedAt - failoverAt)} ms; the last odd answer ${odd.length ? Math.round(Math.max(...odd.map((a) => a.at)) - failoverAt) : 0} ms after the failover began`,
      );
    } finally {
      stop = true;
      await traffic;
    }

    // Every acknowledged event is in PostgreSQL, the truth.
    const acknowledged = answers.flatMap((a) => (a.key === undefined ? [] : [a.key]));
    assert.ok(acknowledged.length > 0);
    const { rows } = await s.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE idempotency_key = ANY($1)', [acknowledged]);
    assert.equal(rows[0].n, acknowledged.length, 'every acknowledged event is stored');
    // Redis converges: after the next build every user's recently viewed is PostgreSQL's.
    await buildShop(s);
    for (const user of users) {
      const { rows: views } = await s.pool.query<{ item_id: string; ms: string }>(
        `SELECT item_id, (extract(epoch FROM max(occurred_at)) * 1000)::bigint::text AS ms FROM events WHERE user_id = $1 AND type = 'view' GROUP BY item_id`,
        [user],
      );
      const stored = await cluster.zrange(keys().recentlyViewed(user), '0', '-1', 'WITHSCORES');
      const inRedis = new Map<string, string>();
      for (let i = 0; i < stored.length; i += 2) inRedis.set(stored[i], stored[i + 1]);
      assert.deepEqual(inRedis, new Map(views.map((v) => [v.item_id, v.ms])), user);
    }
  });

  test("after the failover, a user's kept result still follows their next write (tracking on the promoted master)", async () => {
    const cluster = s.redis as Cluster;
    const promoted = cluster.slots[keys().userSlot('u1')][0];
    const user = Array.from({ length: 400 }, (_, i) => `fo-kept-${i}`).find((u) => cluster.slots[keys().userSlot(u)][0] === promoted)!;
    const viewed = async () => {
      const res = await app.inject({ url: `/v1/recommendations/recently-viewed?user=${user}&fallback=false` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items.map((i: { id: string }) => i.id) as string[];
    };
    const hits = async () => Number(/^recs_user_cache_hits (\S+)$/m.exec((await app.inject({ url: '/metrics' })).body)?.[1]);
    const [first, second] = PRODUCTS.map(([id]) => id);
    const view = (item: string, minute: number) =>
      app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ user_id: user, item_id: item, type: 'view', occurred_at: new Date(Date.UTC(2025, 1, 1, 0, minute)).toISOString() }] } });
    assert.equal((await view(first, 0)).statusCode, 200);
    // Kept again once every master's tracking is armed (the promoted one's included).
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.deepEqual(await viewed(), [first]);
      const before = await hits();
      await viewed();
      if ((await hits()) > before) break;
      assert.ok(Date.now() < deadline, 'results are kept again after the failover');
      await sleep(50);
    }
    assert.equal((await view(second, 1)).statusCode, 200);
    assert.deepEqual(await viewed(), [second, first]);
  });
});
