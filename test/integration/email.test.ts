import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { encodeClickToken } from '../../src/email/click-token.ts';
import { signEmailUrl } from '../../src/email/signed-url.ts';
import type { Config } from '../../src/config.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { addPurchases, buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';
import { clearOfBoundary } from '../helpers/clock.ts';
import { DAY_MS } from '../../src/lib/time.ts';

const SECRET = 'email-test-secret-0123456789abcdef-xyz';
const HOSTILE = `<script>alert("x")</script> Bob's "Best" & <b>Co</b>`;
const FIXTURES = new URL('../fixtures/email/', import.meta.url).pathname;

interface JsonItem {
  position: number;
  id: string;
  title: string;
  price: number | null;
  image_url: string | null;
  link: string | null;
  source: string;
}
interface JsonBlock {
  request_id: string;
  strategy: string;
  variant?: string;
  model_version: number | null;
  degraded?: boolean;
  items: JsonItem[];
}

describe('email blocks, click links and the A/B harness (real build, PostgreSQL and Redis)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let config: Config;

  const get = (url: string, options: InjectOptions = {}) => app.inject({ method: 'GET', url, ...options });
  const block = async (url: string, on = app) => {
    const res = await on.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as JsonBlock;
  };
  const ids = (b: JsonBlock) => b.items.map((i) => i.id);
  const tokenOf = (link: string) => link.slice(link.indexOf('/v1/r/') + '/v1/r/'.length);
  const exposures = async (where = 'true') => (await s.pool.query(`SELECT experiment_id, variant, user_id, request_id, items FROM exposures WHERE ${where} ORDER BY id`)).rows;
  const waitFor = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
  };

  before(async () => {
    s = await startTestServices();
    await loadShop(s.pool);
    // A product whose catalog strings try to break out of the HTML, bought often enough to be popular.
    await s.pool.query(`INSERT INTO products (tenant_id, id, title, price, currency, url, image_url) VALUES ('default', 'h1', $1, 9.5, 'GBP', 'javascript:alert(1)', 'javascript:alert(2)')`, [
      HOSTILE,
    ]);
    await addPurchases(s.pool, { u20: ['h1'], u21: ['h1'], u22: ['h1'], u23: ['h1'], u24: ['h1'], u25: ['h1'] });
    await buildShop(s);
    config = {
      ...s.config,
      experiments: { ...s.config.experiments, exposures: { ...s.config.experiments.exposures, flushIntervalMs: 20 } },
      email: { ...s.config.email, signingSecret: SECRET, publicBaseUrl: 'https://recs.example' },
      links: { ...s.config.links, productUrlTemplate: 'https://shop.example/item/{id}' },
    };
    app = await buildApp(config, s, { logger: false });
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  describe('JSON and HTML', () => {
    test('JSON: N items with title, price, image and a tracked link; private caching and an ETag', async () => {
      const res = await get('/v1/email/collaborative.json?user=u4&limit=4');
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(res.headers['cache-control'], `private, max-age=${config.email.maxAgeSeconds}`);
      assert.match(String(res.headers.etag), /^"[A-Za-z0-9_-]+"$/);
      const b = res.json() as JsonBlock;
      assert.match(b.request_id, /^em-/);
      assert.equal(b.strategy, 'collaborative');
      assert.equal(b.degraded, undefined);
      // u4 bought a2, b1, b2: the same items as the recommendation endpoint gives.
      const api = (await get('/v1/recommendations/collaborative?user=u4&limit=4')).json() as { items: { id: string }[] };
      assert.deepEqual(
        ids(b),
        api.items.map((i) => i.id),
      );
      const first = b.items[0];
      assert.deepEqual([first.position, first.id, first.title, first.price, first.image_url], [1, 'a1', 'Acme Kettle', 20, 'https://img.example/a1.jpg']);
      assert.match(first.link!, /^https:\/\/recs\.example\/v1\/r\/[\w-]+$/);
    });

    test('HTML: a table layout, every catalog string escaped, no script, unsafe URLs dropped', async () => {
      const res = await get('/v1/email/popular.html?limit=3');
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['cache-control'], `public, max-age=${config.email.maxAgeSeconds}`);
      const html = res.body;
      assert.match(html, /<table role="presentation"/);
      assert.equal((html.match(/<td /g) ?? []).length, 3);
      assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; Bob&#39;s &quot;Best&quot; &amp; &lt;b&gt;Co&lt;\/b&gt;/);
      assert.doesNotMatch(html, /<script|<b>|javascript:/i);
      assert.match(html, /Acme Kettle/);
      assert.match(html, /£9\.50/);
      // The hostile item has no usable url or image: its link goes to the configured product page.
      const hostileLink = /href="(https:\/\/recs\.example\/v1\/r\/[^"]+)"[^>]*>\s*<span[^>]*>&lt;script/.exec(html);
      assert.ok(hostileLink, 'the hostile item is linked');
      const click = await get(hostileLink[1].replace('https://recs.example', ''));
      assert.equal(click.headers.location, 'https://shop.example/item/h1');
    });

    test('a replaceable template: the placeholders of test/fixtures/email/custom-template.html', async () => {
      const custom = await buildApp({ ...config, email: { ...config.email, templatePath: `${FIXTURES}custom-template.html` } }, s, { logger: false });
      try {
        const res = await custom.inject({ method: 'GET', url: '/v1/email/same-brand.html?item=a2&limit=2' });
        assert.equal(res.statusCode, 200, res.body);
        const json = await block('/v1/email/same-brand.json?item=a2&limit=2', custom);
        assert.match(res.body, new RegExp(`^<ul data-request="${json.request_id}" data-variant="">`, 'm'));
        assert.match(res.body, /<li data-pos="1"><a href="https:\/\/recs\.example\/v1\/r\/[^"]+">Acme Kettle<\/a> €20\.00<\/li><li data-pos="2">/);
        const empty = await custom.inject({ method: 'GET', url: '/v1/email/popular.html?category=nowhere' });
        assert.match(empty.body, /<li>nothing yet<\/li>/);
      } finally {
        await custom.close();
      }
    });

    test('a template with an unknown name stops the start, naming the line', async () => {
      await assert.rejects(
        buildApp({ ...config, email: { ...config.email, templatePath: `${FIXTURES}misspelt-template.html` } }, s, { logger: false }),
        /misspelt-template\.html: template line 2: unknown name "titel"/,
      );
    });
  });

  describe('deterministic, cacheable, never empty', () => {
    test('the same URL: the same body, ETag and request_id every time; 304 on If-None-Match', async () => {
      const url = '/v1/email/recently-viewed.html?user=u4&limit=3';
      const a = await get(url);
      const b = await get(url);
      assert.equal(a.statusCode, 200);
      assert.equal(b.body, a.body);
      assert.equal(b.headers.etag, a.headers.etag);
      const notModified = await get(url, { headers: { 'if-none-match': String(a.headers.etag) } });
      assert.equal(notModified.statusCode, 304);
      assert.equal(notModified.body, '');
      const stale = await get(url, { headers: { 'if-none-match': '"something-else"' } });
      assert.equal(stale.statusCode, 200);
      assert.equal((await block('/v1/email/recently-viewed.json?user=u4&limit=3')).request_id, (await block('/v1/email/recently-viewed.json?user=u4&limit=3')).request_id);
    });

    test('another user or block: another request_id', async () => {
      const a = await block('/v1/email/collaborative.json?user=u4&limit=3');
      assert.notEqual((await block('/v1/email/collaborative.json?user=u5&limit=3')).request_id, a.request_id);
      assert.notEqual((await block('/v1/email/collaborative.json?user=u4&limit=2')).request_id, a.request_id);
    });

    test('exclude leaves items out', async () => {
      assert.deepEqual(ids(await block('/v1/email/popular.json?limit=3')), ['h1', 'a1', 'a2']);
      assert.deepEqual(ids(await block('/v1/email/popular.json?limit=3&exclude=h1,a2')), ['a1', 'b1', 'a3']);
    });

    test('an unknown user gets popular items', async () => {
      const b = await block('/v1/email/collaborative.json?user=nobody&limit=3');
      assert.deepEqual(ids(b), ['h1', 'a1', 'a2']);
      assert.ok(b.items.every((i) => i.source === 'popular'));
      assert.equal(b.degraded, undefined, 'popular by the model, not the fallback');
    });

    test('no model live (or Redis unusable): popular items from PostgreSQL, marked degraded, never an error', async () => {
      const bare = await buildApp({ ...config, redisPrefix: `${config.redisPrefix}empty:` }, s, { logger: false });
      try {
        const b = await block('/v1/email/collaborative.json?user=u4&limit=3', bare);
        assert.equal(b.degraded, true);
        assert.equal(b.model_version, null);
        // Distinct buyers: h1 6, a1 5, then a2 and b1 3 (id order); u4's own purchases are not known here.
        assert.deepEqual(ids(b), ['h1', 'a1', 'a2']);
        assert.match(b.items[1].link!, /\/v1\/r\//);
        const html = await bare.inject({ method: 'GET', url: '/v1/email/recently-viewed.html?user=u4&limit=2' });
        assert.equal(html.statusCode, 200);
        assert.match(html.body, /Acme Kettle/);
      } finally {
        await bare.close();
      }
    });
  });

  describe('mail_id: several blocks of one email', () => {
    test('later blocks leave out what earlier ones showed; each block keeps its items when fetched again', async () => {
      const mail = (path: string) => `${path}${path.includes('?') ? '&' : '?'}mail_id=m-1`;
      const first = await block(mail('/v1/email/collaborative.json?user=u4&limit=3'));
      const second = await block(mail('/v1/email/popular.json?user=u4&limit=3'));
      assert.deepEqual(ids(first), ['a1', 'a3', 'b3']);
      assert.equal(ids(second).filter((id) => ids(first).includes(id)).length, 0, `${ids(second)} repeats ${ids(first)}`);
      // Without the mail_id the same popular block would repeat a1.
      assert.ok(ids(await block('/v1/email/popular.json?user=u4&limit=3')).includes('a1'));
      // The user views something new: a block fetched again for the same mail does not change.
      await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ user_id: 'u4', item_id: 'c1', type: 'view' }] } });
      const again = await block(mail('/v1/email/collaborative.json?user=u4&limit=3'));
      assert.deepEqual(again, first);
      assert.deepEqual(await block(mail('/v1/email/popular.json?user=u4&limit=3')), second);
      // Another recipient's mail with the same id is theirs alone.
      assert.deepEqual(ids(await block('/v1/email/popular.json?user=u5&limit=3&mail_id=m-1')), ['h1', 'a1', 'a2']);
    });
  });

  describe('click links', () => {
    test('a valid link: 302 to the product page and a click event with request_id, variant and position', async () => {
      const b = await block('/v1/email/collaborative.json?user=u4&limit=3');
      const res = await get(`/v1/r/${tokenOf(b.items[1].link!)}`);
      assert.equal(res.statusCode, 302);
      assert.equal(res.headers.location, 'https://shop.example/p/a3');
      assert.equal(res.headers['cache-control'], 'no-store');
      const { rows } = await s.pool.query(`SELECT user_id, item_id, type, request_id, position, variant, source FROM events WHERE type = 'click' AND request_id = $1`, [b.request_id]);
      assert.deepEqual(rows, [{ user_id: 'u4', item_id: 'a3', type: 'click', request_id: b.request_id, position: 2, variant: null, source: 'redirect' }]);
    });

    test('HEAD (link scanners) redirects without counting a click', async () => {
      const b = await block('/v1/email/collaborative.json?user=u5&limit=1');
      const res = await app.inject({ method: 'HEAD', url: `/v1/r/${tokenOf(b.items[0].link!)}` });
      assert.equal(res.statusCode, 302);
      assert.equal((await s.pool.query(`SELECT 1 FROM events WHERE request_id = $1`, [b.request_id])).rowCount, 0);
    });

    test('altered → 400, expired → 410, signed with another secret → 400; never an open redirect', async () => {
      const b = await block('/v1/email/popular.json?user=u5&limit=1&exclude=h1');
      const token = tokenOf(b.items[0].link!);
      const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      assert.equal((await get(`/v1/r/${altered}`)).statusCode, 400);
      assert.equal((await get(`/v1/r/${token.slice(0, 20)}`)).statusCode, 400);
      assert.equal((await get('/v1/r/garbage')).statusCode, 400);
      const click = { tenant: 'default', requestId: 'r', user: 'u5', item: 'a1', position: 1, variant: null, target: 'https://evil.example/' };
      const expired = await get(`/v1/r/${encodeClickToken(click, SECRET, Math.floor(Date.now() / 1000) - 1)}`);
      assert.equal(expired.statusCode, 410);
      assert.equal(expired.headers.location, undefined);
      const forged = await get(`/v1/r/${encodeClickToken(click, 'another-secret-0123456789abcdef-0123', 4102444800)}`);
      assert.equal(forged.statusCode, 400);
      // Parameters next to the token change nothing: the target only ever comes from the token.
      const res = await get(`/v1/r/${token}?url=https://evil.example/&target=https://evil.example/`);
      assert.equal(res.statusCode, 302);
      assert.equal(res.headers.location, `https://shop.example/p/${b.items[0].id}`);
    });
  });

  describe('batch', () => {
    test("one block per user, in order, the same as each user's GET", async () => {
      const res = await app.inject({ method: 'POST', url: '/v1/email/batch', payload: { strategy: 'collaborative', users: ['u4', 'nobody', 'u5'], limit: 3, html: true } });
      assert.equal(res.statusCode, 200, res.body);
      const { blocks } = res.json() as { blocks: (JsonBlock & { user: string; html: string })[] };
      assert.deepEqual(
        blocks.map((b) => b.user),
        ['u4', 'nobody', 'u5'],
      );
      for (const b of blocks) {
        const single = await block(`/v1/email/collaborative.json?user=${b.user}&limit=3`);
        assert.equal(b.request_id, single.request_id);
        assert.deepEqual(ids(b), ids(single));
        assert.match(b.html, /<table role="presentation"/);
      }
    });

    test('1 to 1000 users: none or more is a 400 naming the field', async () => {
      const post = (users: string[]) => app.inject({ method: 'POST', url: '/v1/email/batch', payload: { strategy: 'popular', users, limit: 1 } });
      const thousand = await post(Array.from({ length: 1000 }, (_, i) => `bulk-${i}`));
      assert.equal(thousand.statusCode, 200);
      assert.equal(thousand.json().blocks.length, 1000);
      for (const users of [[], Array.from({ length: 1001 }, (_, i) => `bulk-${i}`)]) {
        const res = await post(users);
        assert.equal(res.statusCode, 400, `${users.length} users`);
        assert.equal(res.json().field, 'users');
      }
    });
  });

  describe('experiments', () => {
    before(async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/experiments',
        payload: {
          id: 'email-ab',
          variants: [
            { key: 'rv', strategy: 'recently-viewed', control: true, params: { limit: 2 } },
            { key: 'cf', strategy: 'collaborative', params: { limit: 3 } },
          ],
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal((await app.inject({ method: 'POST', url: '/v1/experiments/email-ab/start' })).statusCode, 200);
    });

    test("GET /v1/recommendations?experiment=: the user's variant, its strategy and params, one exposure per request_id", async () => {
      for (const user of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']) {
        const assigned = (await get(`/v1/experiments/email-ab/assignment?user=${user}`)).json().variant.key as string;
        const headers = { 'x-request-id': `ab-${user}` };
        const res = await get(`/v1/recommendations?experiment=email-ab&user=${user}`, { headers });
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json();
        assert.equal(body.variant, assigned);
        assert.equal(body.request_id, `ab-${user}`);
        assert.equal(body.strategy, assigned === 'cf' ? 'collaborative' : 'recently-viewed');
        assert.ok(body.items.length <= (assigned === 'cf' ? 3 : 2));
        // Fetched again under the same request id (a retry): still one exposure.
        await get(`/v1/recommendations?experiment=email-ab&user=${user}`, { headers });
      }
      await waitFor(async () => (await exposures(`request_id LIKE 'ab-%'`)).length >= 6);
      await new Promise((r) => setTimeout(r, 100));
      const rows = await exposures(`request_id LIKE 'ab-%'`);
      assert.equal(rows.length, 6);
      assert.deepEqual(new Set(rows.map((r) => r.request_id)).size, 6);
      const variants = new Set(rows.map((r) => r.variant));
      assert.ok(variants.size === 2, `both variants seen: ${[...variants]}`);
    });

    test('unknown experiment: 404; no user: 400', async () => {
      assert.equal((await get('/v1/recommendations?experiment=nope&user=u1')).statusCode, 404);
      assert.equal((await get('/v1/email/popular.json?experiment=nope&user=u1')).statusCode, 404);
      const res = await get('/v1/email/popular.json?experiment=email-ab');
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().field, 'user');
    });

    test('an email fetched 3 times (HTML, text, AMP parts): one exposure, clicks credited to the variant', async () => {
      const url = '/v1/email/popular.json?experiment=email-ab&user=u4&mail_id=ab-1';
      const a = await block(url);
      await get(url.replace('.json', '.html'));
      await block(url);
      const assigned = (await get('/v1/experiments/email-ab/assignment?user=u4')).json().variant.key as string;
      assert.equal(a.variant, assigned);
      await waitFor(async () => (await exposures(`request_id = '${a.request_id}'`)).length > 0);
      await new Promise((r) => setTimeout(r, 100));
      const rows = await exposures(`request_id = '${a.request_id}'`);
      assert.deepEqual(rows, [{ experiment_id: 'email-ab', variant: assigned, user_id: 'u4', request_id: a.request_id, items: ids(a) }]);
      assert.equal((await get(`/v1/r/${tokenOf(a.items[0].link!)}`)).statusCode, 302);
      const report = (await get('/v1/experiments/email-ab/report')).json() as { variants: { key: string; clicks: number }[] };
      assert.equal(report.variants.find((v) => v.key === assigned)!.clicks, 1);
      const { rows: clicks } = await s.pool.query(`SELECT variant, position FROM events WHERE type = 'click' AND request_id = $1`, [a.request_id]);
      assert.deepEqual(clicks, [{ variant: assigned, position: 1 }]);
    });
  });

  describe('access', () => {
    let locked: FastifyInstance;
    let key: string;
    before(async () => {
      locked = await buildApp({ ...config, auth: { ...config.auth, mode: 'required', keyCacheMs: 0 } }, s, { logger: false });
      key = (await createApiKey(s.pool, { name: 'esp', scope: 'read', origins: [], rate: null })).key;
    });
    after(async () => {
      await locked.close();
    });

    test('a personal block needs a read key, or a signed URL over user and mail_id', async () => {
      const url = '/v1/email/collaborative.html?user=u4&mail_id=m-9';
      assert.equal((await locked.inject({ method: 'GET', url })).statusCode, 401);
      assert.equal((await locked.inject({ method: 'GET', url, headers: { 'x-api-key': key } })).statusCode, 200);
      const batch = await locked.inject({ method: 'POST', url: '/v1/email/batch', headers: { 'x-api-key': key }, payload: { strategy: 'popular', users: ['u1'] } });
      assert.equal(batch.statusCode, 200, 'the batch is a read');

      await clearOfBoundary(DAY_MS); // links expire at a UTC midnight: the two fetches share a day
      const exp = Math.floor(Date.now() / 1000) + 3600;
      const signed = (user: string, mailId: string, e = exp, secret = SECRET) =>
        `/v1/email/signed/collaborative.html?user=${user}&mail_id=${mailId}&exp=${e}&sig=${signEmailUrl(secret, user, mailId, e)}`;
      const ok = await locked.inject({ method: 'GET', url: signed('u4', 'm-9') });
      assert.equal(ok.statusCode, 200, ok.body);
      const keyed = await locked.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
      assert.equal(ok.body, keyed.body, 'the same block either way');
      const other = signed('u4', 'm-9').replace('user=u4', 'user=u5');
      assert.equal((await locked.inject({ method: 'GET', url: other })).statusCode, 403, 'another user');
      assert.equal((await locked.inject({ method: 'GET', url: signed('u4', 'm-9').replace('mail_id=m-9', 'mail_id=m-8') })).statusCode, 403, 'another mail');
      assert.equal((await locked.inject({ method: 'GET', url: signed('u4', 'm-9', exp, 'a-different-secret-0123456789abcdefgh') })).statusCode, 403);
      const past = Math.floor(Date.now() / 1000) - 10;
      assert.equal((await locked.inject({ method: 'GET', url: signed('u4', 'm-9', past) })).statusCode, 410);
      const unsigned = await locked.inject({ method: 'GET', url: '/v1/email/signed/collaborative.html?user=u4' });
      assert.equal(unsigned.statusCode, 400);
    });

    test('click links are public', async () => {
      const b = await block('/v1/email/popular.json?user=u5&limit=1');
      assert.equal((await locked.inject({ method: 'GET', url: `/v1/r/${tokenOf(b.items[0].link!)}` })).statusCode, 302);
    });
  });
});
