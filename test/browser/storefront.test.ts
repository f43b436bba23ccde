// The demo storefront (src/demo) in Chromium, on an origin of its own, against the real API
// (PostgreSQL, Redis, a real build of the shop fixture): its blocks are the API's answers with
// links and images from the tenant's templates; browsing fills recently viewed; a cart event
// carries the request_id of the block the visitor came from. Screenshots: test-output/storefront/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildApp } from '../../src/app.ts';
import { DEFAULT_AUTH_SETTINGS } from '../../src/auth/settings.ts';
import { buildStorefront } from '../../src/demo/storefront.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { setTenantLinks } from '../../src/store/pg/tenants.ts';
import { DEFAULT_TENANT } from '../../src/tenant.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { chromiumPath, CHROMIUM_FLAGS, freePort, PATIENCE_MS, until } from '../helpers/browser.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const SCREENSHOTS = new URL('../../test-output/storefront/', import.meta.url).pathname;

describe('the demo storefront in Chromium (its own origin, the real API)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let storefront: FastifyInstance;
  let browser: Browser;
  let api = '';
  let shop = '';
  let serverKey = '';
  const answered: { url: string; status: number }[] = [];

  /** The shadow root's links of the block titled `title`, once it has loaded. */
  const blockLinks = (page: Page, title: string) =>
    until(
      () =>
        page.evaluate((t) => {
          const host = [...document.querySelectorAll('recs-widget')].find((w) => w.getAttribute('title') === t);
          const links = [...(host?.shadowRoot?.querySelectorAll('a') ?? [])].map((a) => a.href);
          return links.length > 0 ? links : null;
        }, title),
      `the block "${title}"`,
    );

  async function open(t: TestContext, path: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(shop + path);
    return { page, errors };
  }

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const executablePath = chromiumPath();
    s = await startTestServices();
    await loadShop(s.pool);
    // No URLs of their own: every link and image comes from the tenant's templates.
    await s.pool.query('UPDATE products SET url = NULL, image_url = NULL');
    s.config.eventWeights = { purchase: 1, cart: 0, view: 0, click: 0 };
    await buildShop(s);
    api = `http://127.0.0.1:${await freePort()}`;
    shop = `http://127.0.0.1:${await freePort()}`;
    await setTenantLinks(s.pool, DEFAULT_TENANT, { product: `${shop}/demo/default/p/{id}`, image: `${shop}/demo/default/img/{id}.svg` });

    app = await buildApp(
      {
        ...s.config,
        serving: { ...s.config.serving, corsOrigins: [shop] },
        auth: { ...DEFAULT_AUTH_SETTINGS, mode: 'required', keyCacheMs: 0, userTokenSecret: SECRET },
        email: { ...s.config.email, publicBaseUrl: api },
        links: { ...s.config.links, refreshMs: 0 },
      },
      s,
      { logger: false },
    );
    app.addHook('onResponse', async (request, reply) => {
      answered.push({ url: request.url, status: reply.statusCode });
    });
    await app.listen({ host: '127.0.0.1', port: Number(new URL(api).port) });
    serverKey = (await createApiKey(s.pool, { name: 'shop backend', scope: 'write', origins: [], rate: null })).key;
    const browserKey = (await createApiKey(s.pool, { name: 'storefront', scope: 'read', origins: [shop], rate: null })).key;

    storefront = await buildStorefront({
      shops: [{ tenant: DEFAULT_TENANT, name: 'Fixture Shop', api, serverKey, browserKey }],
      apiUrl: api,
      userTokenSecret: SECRET,
      db: s.pool,
    });
    await storefront.listen({ host: '127.0.0.1', port: Number(new URL(shop).port) });
    browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
  });

  after(async () => {
    await browser?.close();
    await storefront?.close();
    await app?.close();
    await s?.close();
  });

  test("a product page: the API's blocks, linking to the storefront's product pages with its images; no console error", async (t) => {
    const { page, errors } = await open(t, '/demo/default/p/a1');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Acme Kettle');
    const expected = await app.inject({ url: '/v1/recommendations/collaborative?item=a1&limit=6', headers: { 'x-api-key': serverKey } });
    const ids = (expected.json().items as { id: string }[]).map((i) => i.id);
    assert.ok(ids.length >= 4, expected.body);
    assert.deepEqual(
      await blockLinks(page, 'Customers who bought this also bought'),
      ids.map((id) => `${shop}/demo/default/p/${id}`),
    );
    assert.ok((await blockLinks(page, 'More from Acme')).length > 0, 'same brand');
    await until(
      () =>
        page.evaluate(
          () =>
            [...document.querySelectorAll('recs-widget')].flatMap((w) => [...w.shadowRoot!.querySelectorAll('img')]).every((img) => img.complete && img.naturalWidth > 0) &&
            document.querySelector('img')!.naturalWidth > 0,
        ),
      'every image, drawn by the storefront',
    );
    await page.screenshot({ path: `${SCREENSHOTS}product.png`, fullPage: true });
    assert.deepEqual(errors, []);
  });

  test('browsing fills recently viewed; a cart event carries the request_id of the block the visitor came from', async (t) => {
    const { page, errors } = await open(t, '/demo/default/p/a1');
    await blockLinks(page, 'Customers who bought this also bought');
    const host = page.locator('recs-widget[title="Customers who bought this also bought"]');
    const first = host.getByRole('link').first();
    const target = new URL((await first.getAttribute('href'))!).pathname.split('/').pop()!;
    await first.click();
    await page.waitForURL(`${shop}/demo/default/p/${target}`);
    // The storefront stored both views (server-side, with its key) before sending each page.
    const viewed = await blockLinks(page, 'Recently viewed');
    assert.deepEqual(
      viewed.slice(0, 2),
      [target, 'a1'].map((id) => `${shop}/demo/default/p/${id}`),
    );

    await page.getByRole('button', { name: 'Add to cart' }).click();
    await until(async () => (await page.getByRole('button').textContent())?.includes('Added'), 'the cart confirmation');
    const { rows: clicks } = await s.pool.query(`SELECT request_id, user_id FROM events WHERE type = 'click' AND item_id = $1`, [target]);
    const { rows: carts } = await s.pool.query(`SELECT request_id, user_id FROM events WHERE type = 'cart' AND item_id = $1`, [target]);
    assert.equal(carts.length, 1);
    assert.equal(clicks.length, 1, 'the widget recorded the click');
    assert.equal(carts[0].request_id, clicks[0].request_id, 'the cart is attributed to the block clicked');
    assert.match(carts[0].user_id, /^visitor-/);
    const { rows: views } = await s.pool.query(`SELECT count(*)::int AS n FROM events WHERE type = 'view' AND user_id = $1`, [carts[0].user_id]);
    assert.equal(views[0].n, 2);
    assert.deepEqual(errors, []);
  });

  test('shopping as a sample customer: their personal blocks, read with the token the storefront signed; what they browsed before is theirs', async (t) => {
    answered.length = 0;
    // Browsing anonymously first: the login links the visitor to the customer.
    const { page, errors } = await open(t, '/demo/default/p/a3');
    await blockLinks(page, 'Customers who bought this also bought');
    await page.goto(`${shop}/demo/default/`);
    const customer = page.locator('a[href*="/as/u"]').first();
    const user = (await customer.textContent())!;
    await customer.click();
    await page.waitForURL(`${shop}/demo/default/`);
    assert.match((await page.locator('header .who').textContent())!, new RegExp(`Shopping as ${user} a sample customer`));
    await blockLinks(page, 'Picked for you');
    assert.equal((await blockLinks(page, 'Recently viewed'))[0], `${shop}/demo/default/p/a3`, 'the product viewed before logging in');
    await until(() => answered.some((r) => r.url.startsWith(`/v1/recommendations/for-you?user=${user}&`) && r.status === 200), 'the personal for-you block');
    await page.screenshot({ path: `${SCREENSHOTS}home.png`, fullPage: true });
    assert.deepEqual(errors, []);
    const stranger = await storefront.inject('/demo/default/as/not-a-sample');
    assert.equal(stranger.statusCode, 404, 'only the listed sample customers can be shopped as');
    assert.equal((await storefront.inject('/demo/default/p/no-such-item')).statusCode, 404);
    assert.equal((await storefront.inject('/demo/nowhere/')).statusCode, 404);
  });
});
