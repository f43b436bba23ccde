// One customer across visits and devices (docs/identity.md), end to end against real
// PostgreSQL, Redis (or a Redis Cluster: npm run test:cluster) and the build: browse
// anonymously, link, recommend by either id; a link during concurrent events; erasure through a
// linked id; experiment stickiness; bad input; tenants; the browser key's token rules.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { DEFAULT_AUTH_SETTINGS } from '../../src/auth/settings.ts';
import { signUserToken } from '../../src/auth/user-token.ts';
import { syncUserFlags } from '../../src/privacy/flags.ts';
import { linkIdentity } from '../../src/privacy/identities.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { ensureTenant } from '../../src/store/pg/tenants.ts';
import { dropLinked, markLinked } from '../../src/store/redis/identities.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { flagsMarker } from '../../src/store/redis/user-flags.ts';
import { readHistory } from '../../src/store/redis/user-history.ts';
import { writeActivities, writeUsers } from '../../src/store/redis/user-writes.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { scanKeys, startTestServices, type TestServices } from '../helpers/services.ts';

const SHOP = 'https://shop.example';
const TOKEN_SECRET = 'a-test-secret-of-at-least-32-characters';
const RATE = { limit: 100_000, windowSeconds: 1 };
const MINUTE = 60_000;

describe('identities: anonymous visitors merged into known customers (real PostgreSQL, Redis and build)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let server: string;
  let widget: string;
  let otherShop: string;
  const keys = (tenant?: string) => redisKeys(s.config.redisPrefix, tenant);
  const call = (o: InjectOptions, key = server) => app.inject({ ...o, headers: { 'x-api-key': key, ...o.headers } });
  const link = (body: object, key = server, headers: Record<string, string> = {}) => call({ method: 'POST', url: '/v1/identities', payload: body, headers }, key);
  const unlink = (id: string, key = server) => call({ method: 'DELETE', url: `/v1/identities/${encodeURIComponent(id)}` }, key);
  const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * MINUTE).toISOString();
  const events = (list: object[], key = server) => call({ method: 'POST', url: '/v1/events', payload: { events: list } }, key);
  const view = (user: string, item: string, minutesAgo: number) => ({ user_id: user, item_id: item, type: 'view', occurred_at: at(minutesAgo) });
  const buy = (user: string, item: string, minutesAgo: number) => ({ user_id: user, item_id: item, type: 'purchase', occurred_at: at(minutesAgo) });
  const recentlyViewed = async (user: string, key = server, headers: Record<string, string> = {}) => {
    const res = await call({ url: `/v1/recommendations/recently-viewed?user=${encodeURIComponent(user)}&fallback=false`, headers }, key);
    assert.equal(res.statusCode, 200, res.body);
    return res.json().items.map((i: { id: string }) => i.id) as string[];
  };
  const history = (user: string) => readHistory(s.redis, keys(), user, { viewed: 1000, bought: true, purchases: true });
  const linksOf = async (tenant = 'default') =>
    (await s.pool.query('SELECT alias_id, customer_id FROM identity_links WHERE tenant_id = $1 ORDER BY alias_id', [tenant])).rows.map((r) => `${r.alias_id}→${r.customer_id}`);
  const eventRows = async (user: string) => (await s.pool.query(`SELECT count(*)::int AS n FROM events WHERE tenant_id = 'default' AND user_id = $1`, [user])).rows[0].n as number;
  /** Every key of the user's hash tag except their erasure tombstone. */
  const keysLeft = async (user: string) => (await scanKeys(s.redis, `${s.config.redisPrefix}*{${user}}*`)).filter((k) => k !== keys().erased(user));
  const appConfig = () => ({ ...s.config, auth: { ...DEFAULT_AUTH_SETTINGS, mode: 'required' as const, keyCacheMs: 0, userTokenSecret: TOKEN_SECRET } });

  before(async () => {
    s = await startTestServices();
    s.config.recentlyViewedCap = 200;
    s.config.experiments.definitionCacheMs = 0;
    s.config.experiments.exposures.flushIntervalMs = 20;
    await loadShop(s.pool);
    await buildShop(s);
    await ensureTenant(s.pool, 'other');
    app = await buildApp(appConfig(), s, { logger: false });
    server = (await createApiKey(s.pool, { name: 'backend', scope: 'write', origins: [], rate: RATE })).key;
    widget = (await createApiKey(s.pool, { name: 'widget', scope: 'read', origins: [SHOP], rate: RATE })).key;
    otherShop = (await createApiKey(s.pool, { name: 'other shop', tenants: ['other'], scope: 'write', origins: [], rate: RATE })).key;
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  describe('browse anonymously → log in → recommend', () => {
    test('before the link: two unrelated users', async () => {
      assert.equal((await events([view('anon-1', 'z9', 30), buy('anon-1', 'b3', 25), view('anon-1', 'a4', 10)])).statusCode, 200);
      assert.equal((await events([view('u1', 'c1', 20)])).statusCode, 200);
      // What the anonymous visitor's email showed so far.
      const mail = await call({ url: '/v1/email/recently-viewed.json?user=anon-1&mail_id=welcome' });
      assert.equal(mail.statusCode, 200, mail.body);
      assert.equal(await s.redis.exists(keys().mail('anon-1', 'welcome')), 1);
      assert.deepEqual(await recentlyViewed('anon-1'), ['a4', 'z9']);
      assert.deepEqual(await recentlyViewed('u1'), ['c1']);
    });

    test('POST /v1/identities merges the anonymous lists and mails into the customer, by time', async () => {
      const res = await link({ anonymous_id: 'anon-1', customer_id: 'u1' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { anonymous_id: 'anon-1', customer_id: 'u1', created: true, merged: { viewed: 2, purchases: 1, mails: 1 } });
      assert.deepEqual(await linksOf(), ['anon-1→u1']);
      // Either id answers for the customer: views of both, newest first.
      assert.deepEqual(await recentlyViewed('u1'), ['a4', 'c1', 'z9']);
      assert.deepEqual(await recentlyViewed('anon-1'), ['a4', 'c1', 'z9']);
      const merged = await history('u1');
      assert.deepEqual(merged.bought, ['b3', 'a1', 'a2', 'b1'], "the anonymous purchase first (newest), then the customer's own (from the build)");
      assert.ok(
        merged.purchases?.some((p) => p.id === 'b3'),
        'buy-again sees the purchase occasion',
      );
      assert.equal(await s.redis.get(keys().alias('anon-1')), 'u1');
      assert.deepEqual((await keysLeft('anon-1')).sort(), [keys().alias('anon-1')], "the anonymous id's lists and mail are gone, its marker stays");
      assert.equal(await s.redis.exists(keys().mail('u1', 'welcome')), 1, "the mail's memory moved to the customer");
      assert.equal(await eventRows('anon-1'), 3, 'PostgreSQL keeps each event under the id it came with');
    });

    test('the same link again is idempotent', async () => {
      const res = await link({ anonymous_id: 'anon-1', customer_id: 'u1' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { anonymous_id: 'anon-1', customer_id: 'u1', created: false, merged: { viewed: 0, purchases: 0, mails: 0 } });
      assert.deepEqual(await recentlyViewed('u1'), ['a4', 'c1', 'z9']);
    });

    test('later events under the anonymous id count for the customer', async () => {
      assert.equal((await events([view('anon-1', 'c2', 1)])).statusCode, 200);
      assert.deepEqual(await recentlyViewed('u1'), ['c2', 'a4', 'c1', 'z9']);
      assert.deepEqual(await keysLeft('anon-1'), [keys().alias('anon-1')], 'nothing is written under the anonymous id');
      // The mail memory too: the anonymous id's email is the customer's.
      const mail = await call({ url: '/v1/email/recently-viewed.json?user=anon-1&mail_id=second' });
      assert.equal(mail.statusCode, 200, mail.body);
      assert.equal(await s.redis.exists(keys().mail('u1', 'second')), 1);
    });

    test('the build resolves the link: one customer in the lists and the lifecycle profile', async () => {
      await buildShop(s);
      assert.deepEqual(await recentlyViewed('anon-1'), ['c2', 'a4', 'c1', 'z9']);
      assert.deepEqual(await keysLeft('anon-1'), [keys().alias('anon-1')], 'the build writes no list under the linked id');
      const profile = await call({ url: '/v1/users/anon-1/profile' });
      assert.equal(profile.statusCode, 200, profile.body);
      assert.equal(profile.json().user_id, 'u1');
      assert.equal(profile.json().orders, 2, "the customer's purchase day and the anonymous one");
      const own = await call({ url: '/v1/users/u1/profile' });
      assert.deepEqual(own.json(), profile.json());
    });

    test('DELETE /v1/identities/{id}: both go back to their own events', async () => {
      const res = await unlink('anon-1');
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { id: 'anon-1', unlinked_from: 'u1' });
      assert.deepEqual(await linksOf(), []);
      assert.deepEqual(await recentlyViewed('anon-1'), ['c2', 'a4', 'z9']);
      assert.deepEqual(await recentlyViewed('u1'), ['c1']);
      assert.deepEqual((await history('u1')).bought, ['a1', 'a2', 'b1']);
      assert.deepEqual(await unlink('anon-1').then((r) => r.json()), { id: 'anon-1', unlinked_from: null }, 'idempotent');
      // And linked again, for what follows.
      assert.equal((await link({ anonymous_id: 'anon-1', customer_id: 'u1' })).json().created, true);
      assert.deepEqual(await recentlyViewed('u1'), ['c2', 'a4', 'c1', 'z9']);
    });

    test('a device id joins the same customer; caps are kept', async () => {
      await events([view('device-1', 'b1', 5), view('device-1', 'b2', 4), buy('device-1', 'n1', 4)]);
      const limits = { recentlyViewedCap: 3, purchaseOccasionsCap: 2, ttlSeconds: 600 };
      const linked = await linkIdentity(s.pool, s.redis, { id: 'default', keys: keys() }, limits, 'device-1', 'u1');
      assert.equal(linked.created, true);
      assert.deepEqual(
        (await history('u1')).viewed.map((v) => v.id),
        ['c2', 'b2', 'b1'],
        'the 3 newest of both',
      );
      assert.deepEqual((await history('u1')).purchases?.map((p) => p.id).sort(), ['b3', 'n1'], 'the 2 newest purchase occasions');
      await unlink('device-1');
    });
  });

  test('a link while events of both ids pour in: nothing lost, nothing under the wrong id', async () => {
    const before = Array.from({ length: 5 }, (_, i) => view('race-anon', `ra-${i}`, 100 - i));
    await events(before);
    const batches: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      batches.push(events([view('race-anon', `rx-${i}`, 50 - i / 2), view('race-cust', `rc-${i}`, 50 - i / 2)]));
      if (i === 20) batches.push(link({ anonymous_id: 'race-anon', customer_id: 'race-cust' }));
    }
    const replies = (await Promise.all(batches)) as { statusCode: number; body: string }[];
    for (const r of replies) assert.equal(r.statusCode, 200, r.body);
    const viewed = new Set((await history('race-cust')).viewed.map((v) => v.id));
    const expected = [...before.map((e) => e.item_id), ...Array.from({ length: 40 }, (_, i) => [`rx-${i}`, `rc-${i}`]).flat()];
    assert.deepEqual(
      expected.filter((item) => !viewed.has(item)),
      [],
      "every view of either id is in the customer's list",
    );
    assert.equal(viewed.size, expected.length);
    assert.deepEqual(await keysLeft('race-anon'), [keys().alias('race-anon')], 'no list left or recreated under the anonymous id');
    assert.equal(await eventRows('race-anon'), 45);
    assert.equal(await eventRows('race-cust'), 40);
  });

  test("the Redis steps of a link, with writes at their worst moments: each lands in the customer's lists once", async () => {
    const limits = { recentlyViewedCap: 100, purchaseOccasionsCap: 100, ttlSeconds: 600 };
    const write = (user: string, item: string, minutesAgo: number, type = 'view') =>
      writeUsers(s.redis, keys(), limits, [{ user, item, type, occurredAt: new Date(Date.now() - minutesAgo * MINUTE) }]);
    await write('step-anon', 's1', 9);
    await write('step-anon', 's2', 8, 'purchase');
    await write('step-cust', 's3', 7);
    const lists = await markLinked(s.redis, keys(), 'step-anon', 'step-cust');
    assert.ok(lists !== null);
    // Marked, not yet copied: a write of the linked id goes to the customer, a read answers for them.
    await write('step-anon', 's4', 6);
    assert.deepEqual(
      (await history('step-anon')).viewed.map((v) => v.id),
      ['s4', 's3'],
    );
    await writeActivities(s.redis, keys(), limits, [lists]);
    // A copy done twice (a retried link) counts once.
    await writeActivities(s.redis, keys(), limits, [lists]);
    await write('step-anon', 's5', 5);
    assert.equal(await dropLinked(s.redis, keys(), 'step-anon', 'step-cust'), 4, "the linked id's lists went: views, purchases (two forms), occasions");
    const merged = await history('step-cust');
    assert.deepEqual(
      merged.viewed.map((v) => v.id),
      ['s5', 's4', 's3', 's1'],
    );
    assert.deepEqual(merged.bought, ['s2']);
    assert.deepEqual(await keysLeft('step-anon'), [keys().alias('step-anon')]);
  });

  test('a link racing an erasure of the customer: linked then erased, or refused; never half-merged', async () => {
    for (let i = 0; i < 4; i++) {
      const [anon, cust] = [`re-anon-${i}`, `re-cust-${i}`];
      await events([view(anon, 'a4', 3), view(cust, 'c1', 2)]);
      const [linked, erased] = await Promise.all([link({ anonymous_id: anon, customer_id: cust }), call({ method: 'DELETE', url: `/v1/users/${cust}` })]);
      assert.equal(erased.statusCode, 200, erased.body);
      assert.deepEqual(await keysLeft(cust), []);
      if (linked.statusCode === 200) {
        assert.deepEqual(await keysLeft(anon), [], 'linked first: the erasure took the linked id along');
        assert.equal(await eventRows(anon), 0);
      } else {
        assert.deepEqual([linked.statusCode, linked.json().error, linked.json().field], [409, 'user_erased', 'customer_id']);
        assert.deepEqual(await recentlyViewed(anon), ['a4'], 'refused: the anonymous id keeps its own');
      }
      assert.ok(!(await linksOf()).some((l) => l.includes(cust)));
    }
  });

  test('erasure through a linked id: every row and key of both ids, and a racing write brings nothing back', async () => {
    await events([view('erase-anon', 'a4', 9), buy('erase-anon', 'b3', 8), view('erase-cust', 'c1', 7), buy('erase-cust', 'a2', 6)]);
    await call({ url: '/v1/email/recently-viewed.json?user=erase-anon&mail_id=m1' });
    assert.equal((await link({ anonymous_id: 'erase-anon', customer_id: 'erase-cust' })).statusCode, 200);
    await call({ url: '/v1/email/recently-viewed.json?user=erase-cust&mail_id=m2' });
    const racing = Array.from({ length: 20 }, (_, i) => events([view('erase-anon', `e-${i}`, 1), view('erase-cust', `f-${i}`, 1)]));
    const res = await call({ method: 'DELETE', url: '/v1/users/erase-anon' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().linked, ['erase-cust'], 'the customer, erased with the id asked for');
    for (const r of await Promise.all(racing)) assert.equal(r.statusCode, 200);
    // A request that stored its events just before the erasure and writes Redis only now, by
    // either id (the linked id's write goes to the customer):
    await writeUsers(s.redis, keys(), { recentlyViewedCap: 10, purchaseOccasionsCap: 10, ttlSeconds: 600 }, [
      { user: 'erase-anon', item: 'late', type: 'view', occurredAt: new Date() },
      { user: 'erase-cust', item: 'late', type: 'purchase', occurredAt: new Date() },
    ]);
    for (const id of ['erase-anon', 'erase-cust']) {
      assert.deepEqual(await keysLeft(id), [], `no Redis key of ${id} but its tombstone`);
      assert.equal(await s.redis.exists(keys().erased(id)), 1);
      assert.equal(await eventRows(id), 0, `no event row of ${id}`);
    }
    const { rows } = await s.pool.query(`SELECT id FROM users WHERE tenant_id = 'default' AND deleted_at IS NOT NULL AND id LIKE 'erase-%' ORDER BY id`);
    assert.deepEqual(
      rows.map((r) => r.id),
      ['erase-anon', 'erase-cust'],
    );
    assert.ok(!(await linksOf()).some((l) => l.includes('erase-')), 'the link went with them');
    const relink = await link({ anonymous_id: 'erase-anon', customer_id: 'someone' });
    assert.equal(relink.statusCode, 409);
    assert.deepEqual([relink.json().error, relink.json().field], ['user_erased', 'anonymous_id']);
  });

  test('opt-out of a customer covers every linked id', async () => {
    await events([view('opt-anon', 'a4', 3), view('opt-cust', 'c1', 2)]);
    assert.equal((await link({ anonymous_id: 'opt-anon', customer_id: 'opt-cust' })).statusCode, 200);
    const res = await call({ method: 'POST', url: '/v1/users/opt-cust/preferences', payload: { personalization_opt_out: true } });
    assert.equal(res.statusCode, 200, res.body);
    const { rows } = await s.pool.query(`SELECT id FROM users WHERE tenant_id = 'default' AND personalization_opt_out ORDER BY id`);
    assert.deepEqual(
      rows.map((r) => r.id),
      ['opt-anon', 'opt-cust'],
    );
    for (const id of ['opt-anon', 'opt-cust']) {
      assert.equal(await s.redis.get(keys().optOut(id)), '1');
      assert.equal((await history(id)).optedOut, true);
    }
  });

  describe('experiments: a customer keeps the variant first exposed, whichever id', () => {
    const experiment = 'identity-ab';
    const variantOf = async (user: string) => (await call({ url: `/v1/experiments/${experiment}/assignment?user=${encodeURIComponent(user)}` })).json().variant.key as string;
    const exposures = async (user: string) =>
      (await s.pool.query(`SELECT variant FROM exposures WHERE tenant_id = 'default' AND experiment_id = $1 AND user_id = $2`, [experiment, user])).rows.map((r) => r.variant as string);
    let anon = '';
    let customer = '';

    before(async () => {
      const created = await call({
        method: 'POST',
        url: '/v1/experiments',
        payload: {
          id: experiment,
          variants: [
            { key: 'rv', strategy: 'recently-viewed', control: true },
            { key: 'pop', strategy: 'popular' },
          ],
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal((await call({ method: 'POST', url: `/v1/experiments/${experiment}/start` })).statusCode, 200);
      // An anonymous id and a customer id whose own hashes pick different variants.
      for (let i = 0; anon === '' && i < 50; i++) {
        if ((await variantOf(`xa-${i}`)) !== (await variantOf(`xc-${i}`))) [anon, customer] = [`xa-${i}`, `xc-${i}`];
      }
      assert.notEqual(anon, '');
    });

    test('exposed anonymously by another API process, linked at once (its exposure still buffered there), then seen as the customer: the same variant, one visitor in the report', async () => {
      // Another API process whose exposure buffer is not written before the link.
      const config = appConfig();
      const other = await buildApp({ ...config, experiments: { ...config.experiments, exposures: { ...config.experiments.exposures, flushIntervalMs: 3_600_000 } } }, s, { logger: false });
      const first = await variantOf(anon);
      const exposed = await other.inject({ url: `/v1/recommendations?experiment=${experiment}&user=${anon}`, headers: { 'x-api-key': server, 'x-request-id': 'xp-anon' } });
      assert.equal(exposed.json().variant, first);
      assert.deepEqual(await exposures(anon), [], 'the exposure is still in the other process');
      assert.equal((await link({ anonymous_id: anon, customer_id: customer })).statusCode, 200);
      assert.equal(await variantOf(customer), first, 'the customer keeps the variant of the anonymous exposure');
      assert.equal(await variantOf(anon), first);
      const asCustomer = await call({ url: `/v1/recommendations?experiment=${experiment}&user=${customer}`, headers: { 'x-request-id': 'xp-cust' } });
      assert.equal(asCustomer.json().variant, first);
      await other.close();
      assert.deepEqual(await exposures(anon), [first], 'written when the other process stops');
      for (let i = 0; (await exposures(customer)).length === 0 && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(await exposures(customer), [first]);
      // Purchases under either id, one credited by request_id, one in the window.
      await events([
        { user_id: customer, item_id: 'a1', type: 'purchase', request_id: 'xp-cust', price: 20 },
        { user_id: anon, item_id: 'b1', type: 'purchase', price: 50 },
      ]);
      const report = await call({ url: `/v1/experiments/${experiment}/report` });
      assert.equal(report.statusCode, 200, report.body);
      const byKey = Object.fromEntries(report.json().variants.map((v: { key: string; visitors: number; converters: number; exposures: number }) => [v.key, v]));
      const second = first === 'rv' ? 'pop' : 'rv';
      assert.deepEqual([byKey[first].visitors, byKey[first].exposures, byKey[first].converters], [1, 2, 1], 'one customer, two exposures, one converter');
      assert.equal(byKey[second].visitors, 0);
    });
  });

  describe('bad input: a clear 400/409 naming the field, nothing half-merged', () => {
    before(async () => {
      await events([view('bad-anon', 'a4', 3), view('bad-cust', 'c1', 2), view('bad-other', 'c2', 1)]);
      assert.equal((await link({ anonymous_id: 'bad-anon', customer_id: 'bad-cust' })).statusCode, 200);
    });

    const refused = async (body: object, status: number, error: string, field: string) => {
      const linksBefore = await linksOf();
      const res = await link(body);
      assert.equal(res.statusCode, status, res.body);
      assert.deepEqual([res.json().error, res.json().field], [error, field], res.body);
      assert.deepEqual(await linksOf(), linksBefore, 'no link changed');
    };

    test('malformed bodies: 400', async () => {
      await refused({ anonymous_id: 'x' }, 400, 'invalid_request', 'customer_id');
      await refused({ anonymous_id: 'x', customer_id: 'y', tenant: 'other' }, 400, 'invalid_request', 'tenant');
      await refused({ anonymous_id: 'x\u0000', customer_id: 'y' }, 400, 'invalid_request', 'anonymous_id');
      await refused({ anonymous_id: '', customer_id: 'y' }, 400, 'invalid_request', 'anonymous_id');
      await refused({ anonymous_id: 'same', customer_id: 'same' }, 400, 'invalid_request', 'customer_id');
    });

    test('a linked id to another customer, a customer to another, a chain, a cycle: 409', async () => {
      await refused({ anonymous_id: 'bad-anon', customer_id: 'bad-other' }, 409, 'already_linked', 'anonymous_id');
      await refused({ anonymous_id: 'bad-cust', customer_id: 'bad-other' }, 409, 'is_customer', 'anonymous_id');
      await refused({ anonymous_id: 'bad-other', customer_id: 'bad-anon' }, 409, 'is_linked', 'customer_id');
      await refused({ anonymous_id: 'bad-cust', customer_id: 'bad-anon' }, 409, 'is_customer', 'anonymous_id');
      // Redis unchanged too: each id's own lists and markers.
      assert.deepEqual(await recentlyViewed('bad-other'), ['c2']);
      assert.equal(await s.redis.get(keys().alias('bad-cust')), null);
      assert.equal(await s.redis.get(keys().alias('bad-other')), null);
      assert.deepEqual(await recentlyViewed('bad-anon'), ['c1', 'a4']);
    });

    test('unlinking a customer that has linked ids: 409', async () => {
      const res = await unlink('bad-cust');
      assert.equal(res.statusCode, 409);
      assert.deepEqual([res.json().error, res.json().field], ['is_customer', 'id']);
      assert.deepEqual(await linksOf().then((l) => l.filter((x) => x.startsWith('bad-'))), ['bad-anon→bad-cust']);
    });
  });

  test("tenants: the key decides the shop; one shop's links never reach another's ids", async () => {
    await events([view('t-anon', 'a4', 2), view('t-cust', 'c1', 1)]);
    const res = await link({ anonymous_id: 't-anon', customer_id: 't-cust' }, otherShop);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().merged, { viewed: 0, purchases: 0, mails: 0 }, "the other shop's t-anon has no history");
    assert.deepEqual(await linksOf('other'), ['t-anon→t-cust']);
    assert.ok(!(await linksOf()).includes('t-anon→t-cust'));
    assert.deepEqual(await recentlyViewed('t-anon'), ['a4'], "this shop's t-anon is untouched");
    assert.equal(await s.redis.get(keys().alias('t-anon')), null);
    assert.equal(await s.redis.get(keys('other').alias('t-anon')), 't-cust');
    // A link of this shop is not the other's to remove.
    assert.equal((await link({ anonymous_id: 't-anon', customer_id: 't-cust' })).statusCode, 200);
    assert.deepEqual((await unlink('t-anon', otherShop)).json(), { id: 't-anon', unlinked_from: 't-cust' }, "the other shop's own link");
    assert.deepEqual(await linksOf('other'), []);
    assert.ok((await linksOf()).includes('t-anon→t-cust'), "this shop's link stays");
    assert.equal(await s.redis.get(keys().alias('t-anon')), 't-cust');
  });

  describe('a browser key: both tokens to link, the customer’s token to read', () => {
    const headers = { origin: SHOP };
    const tokens = (anonymous: string, customer: string) => ({ anonymous_token: signUserToken(anonymous, TOKEN_SECRET, 600), customer_token: signUserToken(customer, TOKEN_SECRET, 600) });

    test('a link needs each id’s own token', async () => {
      await events([view('w-anon', 'z9', 2), view('w-cust', 'c1', 1)]);
      const body = { anonymous_id: 'w-anon', customer_id: 'w-cust' };
      const { anonymous_token, customer_token } = tokens('w-anon', 'w-cust');
      const missing = await link({ ...body, customer_token }, widget, headers);
      assert.deepEqual([missing.statusCode, missing.json().error, missing.json().field], [401, 'user_token_required', 'anonymous_token']);
      const wrong = await link({ ...body, anonymous_token, customer_token: signUserToken('someone-else', TOKEN_SECRET, 600) }, widget, headers);
      assert.deepEqual([wrong.statusCode, wrong.json().error, wrong.json().field], [403, 'invalid_user_token', 'customer_token']);
      const foreign = await link({ ...body, anonymous_token, customer_token }, widget, { origin: 'https://evil.example' });
      assert.equal(foreign.statusCode, 403);
      assert.deepEqual(await linksOf().then((l) => l.filter((x) => x.startsWith('w-'))), [], 'nothing linked by a refused call');
      const ok = await link({ ...body, anonymous_token, customer_token }, widget, headers);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().created, true);
    });

    test("a linked id's data is read with the customer's token only; unlinking needs a server key", async () => {
      const { anonymous_token, customer_token } = tokens('w-anon', 'w-cust');
      const asAnon = await call({ url: '/v1/recommendations/recently-viewed?user=w-anon&fallback=false', headers: { ...headers, 'x-user-token': anonymous_token } }, widget);
      assert.equal(asAnon.statusCode, 403, 'the anonymous token no longer reads what is now the customer’s');
      // A page opened before the login still reports what it showed, with the token it holds.
      const impression = await call(
        {
          method: 'POST',
          url: '/v1/widget/events',
          headers: { ...headers, 'x-user-token': anonymous_token },
          payload: { type: 'impression', request_id: 'r-before-login', user_id: 'w-anon', items: [{ item_id: 'z9', position: 1 }] },
        },
        widget,
      );
      assert.deepEqual([impression.statusCode, impression.json().accepted], [200, 1], impression.body);
      assert.deepEqual(await recentlyViewed('w-anon', widget, { ...headers, 'x-user-token': customer_token }), ['c1', 'z9']);
      // Redis lost its markers (a restart without persistence): PostgreSQL's link decides.
      await s.redis.del(flagsMarker(s.redis, keys(), 'w-anon'));
      const profile = (token: string) => call({ url: '/v1/users/w-anon/profile', headers: { ...headers, 'x-user-token': token } }, widget);
      assert.equal((await profile(anonymous_token)).statusCode, 403);
      assert.notEqual((await profile(customer_token)).statusCode, 403);
      await syncUserFlags(s.pool, s.redis, 'default', keys());
      const res = await call({ method: 'DELETE', url: '/v1/identities/w-anon', headers }, widget);
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error, 'insufficient_scope');
    });
  });
});
