// The website widget (src/widget/recs-widget.js) in a real browser: Debian's Chromium driven by
// playwright-core, against the real API (buildApp listening on a loopback port, PostgreSQL and
// Redis, a real build of the shop fixture) and shop pages served from two other loopback ports:
// the origin the widget key is bound to, and another one. Screenshots go to test-output/widget/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { buildApp } from '../../src/app.ts';
import { DEFAULT_AUTH_SETTINGS } from '../../src/auth/settings.ts';
import { signUserToken } from '../../src/auth/user-token.ts';
import { anonymousUser } from '../../src/routes/widget-events.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { insertExperiment, updateStatus } from '../../src/store/pg/experiments.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { DEFAULT_TENANT } from '../../src/tenant.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { chromiumPath, CHROMIUM_FLAGS, freePort, listen, PATIENCE_MS, until } from '../helpers/browser.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const EXPERIMENT = 'widget-ab';
const SCREENSHOTS = new URL('../../test-output/widget/', import.meta.url).pathname;
// The catalog as the tests change it (below): a3 has no image, b1 no currency, b3 is priced in
// pounds, c1 in a currency Intl does not know.
const NO_IMAGE = new Set(['a3']);
const CURRENCY: Record<string, string | null> = { b1: null, b3: 'GBP', c1: 'XYZ' };

declare global {
  interface Window {
    /** The widget's events as the page saw them (recorded by an init script). */
    recsEvents: { type: string; id: string; detail: Record<string, unknown> }[];
    layoutShift: number;
    layoutShifts: PerformanceObserver;
  }
}

interface Item {
  id: string;
  title: string;
  price: number;
  currency: string | null;
}
interface Block {
  request_id: string;
  items: Item[];
}
interface Seen {
  method: string;
  url: string;
  origin?: string;
  status: number;
  body?: { type?: string; request_id?: string };
}
interface Opened {
  page: Page;
  messages: ConsoleMessage[];
  pageErrors: Error[];
}

const priceText = (item: Item, locale: string) => {
  const known = item.currency !== null && Intl.supportedValuesOf('currency').includes(item.currency);
  return new Intl.NumberFormat(locale, known ? { style: 'currency', currency: item.currency! } : { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(item.price);
};

describe('the website widget in Chromium (real API, PostgreSQL, Redis and build)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let browser: Browser;
  let api: string;
  let shop: string;
  let elsewhere: string;
  let widgetKey: string;
  let serverKey: string;
  let script: { url: string; integrity: string };
  const servers: Server[] = [];
  const pages = new Map<string, string>();
  /** Every request the API answered (with its body: the widget's events). */
  const seen: Seen[] = [];
  /** Requests to this path wait for `released`: a test holds a block back to see what comes before it. */
  let held: { path: string; released: Promise<void> } | undefined;

  // The shop's pages (registered per test), product pages and product images; both origins serve them.
  function shopPages(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://shop').pathname;
    const product = /^\/p\/(\w+)$/.exec(path)?.[1];
    const image = /^\/img\/(\w+)\.svg$/.exec(path)?.[1];
    const page = pages.get(path) ?? (product && html(`<h1>Product ${product}</h1>`));
    if (page) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    } else if (image) {
      res
        .writeHead(200, { 'content-type': 'image/svg+xml' })
        .end(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#c9e4f5"/><text x="5" y="6" font-size="3" text-anchor="middle">${image}</text></svg>`);
    } else {
      res.writeHead(path === '/favicon.ico' ? 204 : 404).end();
    }
  }

  // The widget script is loaded in <head> without defer: it runs before the body is first
  // rendered, so every layout shift measured is the widget's own, not the page's choice of when
  // to load it (docs/widget.md). Its integrity is the one GET /widget.json announces. A page with
  // a Content-Security-Policy has no inline style of its own.
  const html = (body: string, csp?: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title>
${csp ? `<meta http-equiv="Content-Security-Policy" content="${csp}">` : ''}
<script src="${script.url}" integrity="${script.integrity}" crossorigin="anonymous"></script></head>
<body${csp ? '' : ' style="margin:0;padding:8px;font:16px/1.4 sans-serif"'}>${body}</body></html>`;

  let pageCount = 0;
  function addPage(body: string, csp?: string): string {
    const path = `/page/${++pageCount}`;
    pages.set(path, html(body, csp));
    return path;
  }

  const widget = (attrs: Record<string, string>, inner = '') =>
    `<recs-widget ${Object.entries({ key: widgetKey, ...attrs })
      .map(([k, v]) => `${k}="${v}"`)
      .join(' ')}>${inner}</recs-widget>`;

  /** A fresh browser context (its own storage) with the page open; closed when the test ends. */
  async function open(t: TestContext, url: string, options: { pausedClock?: boolean } = {}): Promise<Opened> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    t.after(() => context.close());
    await context.addInitScript(() => {
      window.recsEvents = [];
      for (const type of ['recs-load', 'recs-impression', 'recs-click', 'recs-error']) {
        document.addEventListener(type, (e) => window.recsEvents.push({ type, id: (e.target as Element).id, detail: (e as CustomEvent).detail }));
      }
      window.layoutShift = 0;
      window.layoutShifts = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.layoutShift += (entry as PerformanceEntry & { value: number }).value;
      });
      window.layoutShifts.observe({ type: 'layout-shift', buffered: true });
    });
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    const opened: Opened = { page, messages: [], pageErrors: [] };
    page.on('console', (m) => opened.messages.push(m));
    page.on('pageerror', (e) => opened.pageErrors.push(e));
    // Timers stand still until the test moves them (page.clock.runFor): visible-for-a-second is exact.
    if (options.pausedClock) {
      await page.clock.install({ time: 1_800_000_000_000 });
      await page.clock.pauseAt(1_800_000_000_000 + 1);
    }
    await page.goto(url);
    return opened;
  }

  const events = (page: Page) => page.evaluate(() => window.recsEvents);
  async function loaded(page: Page, id: string): Promise<{ request_id: string; personal: boolean; items: { id: string; position: number }[] }> {
    const event = await until(async () => (await events(page)).find((e) => e.type === 'recs-load' && e.id === id), `the widget #${id} to load`);
    return event.detail as never;
  }
  const count = async (page: Page, type: string, id: string) => (await events(page)).filter((e) => e.type === type && e.id === id).length;

  /** The page's console by kind: errors the page or browser logged, and warnings. */
  function consoleOf(opened: Opened) {
    assert.deepEqual(
      opened.pageErrors.map((e) => e.message),
      [],
      'no uncaught error',
    );
    const text = (type: string) => opened.messages.filter((m) => m.type() === type).map((m) => m.text());
    return { errors: text('error'), warnings: text('warning') };
  }

  /** The block a server-side key gets for the same query: what the widget must show. */
  async function expected(query: string): Promise<Block> {
    const res = await app.inject({ url: `/v1/recommendations/${query}`, headers: { 'x-api-key': serverKey } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  }

  const hrefs = (page: Page, id: string) =>
    page
      .locator(`#${id}`)
      .getByRole('link')
      .evaluateAll((links) => links.map((a) => a.getAttribute('href')));

  /**
   * Resolves once the widget's intersection observers have reported the current layout: a new
   * observer's first report comes in the same rendering update as theirs (their callbacks run in
   * the same task) or a later one, and the test's next command runs after that task.
   */
  const observed = (page: Page, id: string) =>
    page.evaluate(
      (target) =>
        new Promise<void>((resolve) => {
          const io = new IntersectionObserver(() => {
            io.disconnect();
            resolve();
          });
          io.observe(document.getElementById(target)!);
        }),
      id,
    );

  /** Two rendered frames: any layout shift of the last change has been measured. */
  const rendered = (page: Page) =>
    page.evaluate(
      () =>
        new Promise<number>((resolve) =>
          requestAnimationFrame(() =>
            requestAnimationFrame(() => {
              for (const entry of window.layoutShifts.takeRecords()) window.layoutShift += (entry as PerformanceEntry & { value: number }).value;
              resolve(window.layoutShift);
            }),
          ),
        ),
    );

  /** The widget's events the API answered for one block. */
  const posted = (type: string, requestId: string) => seen.filter((r) => r.method === 'POST' && r.url === '/v1/widget/events' && r.body?.type === type && r.body.request_id === requestId);

  async function storedEvents(type: string, requestId: string) {
    const { rows } = await s.pool.query<{ user_id: string; item_id: string; position: number; source: string }>(
      'SELECT user_id, item_id, position, source FROM events WHERE type = $1 AND request_id = $2 ORDER BY position',
      [type, requestId],
    );
    return rows;
  }

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const executablePath = chromiumPath();
    s = await startTestServices();
    servers.push(createServer(shopPages), createServer(shopPages));
    [shop, elsewhere] = await Promise.all(servers.map((server) => listen(server)));
    api = `http://127.0.0.1:${await freePort()}`;

    await loadShop(s.pool);
    await s.pool.query(`UPDATE products SET url = $1 || '/p/' || id, image_url = CASE WHEN id = ANY($2) THEN NULL ELSE $1 || '/img/' || id || '.svg' END`, [shop, [...NO_IMAGE]]);
    for (const [id, currency] of Object.entries(CURRENCY)) await s.pool.query('UPDATE products SET currency = $2 WHERE id = $1', [id, currency]);
    // viewer viewed z9, then a4: views shape no model here, so only viewer's own block shows them.
    await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ($1, 'viewer', 'z9', 'view', now() - interval '1 minute'), ($1, 'viewer', 'a4', 'view', now())`, [
      DEFAULT_TENANT,
    ]);
    s.config.eventWeights = { purchase: 1, cart: 0, view: 0, click: 0 };
    await buildShop(s);
    // Everyone in the experiment gets recently-viewed (the control takes no one), whatever the element's strategy says.
    s.config.experiments.exposures.flushIntervalMs = 20;
    await insertExperiment(s.pool, DEFAULT_TENANT, {
      id: EXPERIMENT,
      name: null,
      salt: EXPERIMENT,
      coverage: 1,
      variants: [
        { key: 'control', strategy: 'popular', weight: 0, params: {}, control: true },
        { key: 'rv', strategy: 'recently-viewed', weight: 1, params: {}, control: false },
      ],
    });
    await updateStatus(s.pool, DEFAULT_TENANT, EXPERIMENT, 'draft', 'running');

    app = await buildApp(
      {
        ...s.config,
        serving: { ...s.config.serving, corsOrigins: [shop, elsewhere] },
        auth: { ...DEFAULT_AUTH_SETTINGS, mode: 'required', keyCacheMs: 0, userTokenSecret: SECRET },
        email: { ...s.config.email, publicBaseUrl: api },
      },
      s,
      { logger: false },
    );
    app.addHook('onRequest', async (request) => {
      if (held && request.url.startsWith(held.path)) await held.released;
    });
    app.addHook('onResponse', async (request, reply) => {
      seen.push({ method: request.method, url: request.url, origin: request.headers.origin, status: reply.statusCode, body: request.body as Seen['body'] });
    });
    await app.listen({ host: '127.0.0.1', port: Number(new URL(api).port) });
    widgetKey = (await createApiKey(s.pool, { name: 'widget', scope: 'read', origins: [shop], rate: null, tenants: [DEFAULT_TENANT] })).key;
    serverKey = (await createApiKey(s.pool, { name: 'backend', scope: 'read', origins: [], rate: null, tenants: [DEFAULT_TENANT] })).key;
    script = (await app.inject('/widget.json')).json();
    browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await s?.close();
  });

  test('the block: its items as an accessible list of links with names, images or placeholders and prices; nothing moves', async (t) => {
    const block = await expected('collaborative?item=a1&limit=5');
    // The catalog's special cases are in this block, so each is checked below.
    for (const id of [...NO_IMAGE, ...Object.keys(CURRENCY)])
      assert.ok(
        block.items.some((i) => i.id === id),
        `${id} in ${block.items.map((i) => i.id)}`,
      );
    const path = addPage(`<button id="before">before</button>
      ${widget({ id: 'w', strategy: 'collaborative', item: 'a1', limit: '5', title: 'Customers also bought', locale: 'de-DE', target: '_blank' })}
      <p id="below">Below the block.</p><div style="height:2000px"></div>`);
    let release = () => {};
    held = {
      path: '/v1/recommendations/collaborative?',
      released: new Promise((resolve) => {
        release = resolve;
      }),
    };
    t.after(() => {
      release();
      held = undefined;
    });
    const opened = await open(t, shop + path);
    const { page } = opened;
    const list = page.getByRole('list', { name: 'Customers also bought' });
    // Before the data: the skeleton holds the block's place, busy and hidden from assistive technology.
    await until(() => page.locator('#w').evaluate((host) => host.shadowRoot!.querySelectorAll('li[aria-hidden=true]').length === 5), 'the skeleton');
    assert.equal(await list.getAttribute('aria-busy'), 'true');
    assert.equal(await list.getByRole('listitem').count(), 0);
    assert.equal(await rendered(page), 0);
    release();
    const shown = await loaded(page, 'w');
    assert.equal(shown.personal, false);
    assert.deepEqual(
      shown.items.map((i) => i.id),
      block.items.map((i) => i.id),
    );

    assert.equal(await list.getByRole('listitem').count(), block.items.length);
    const links = list.getByRole('link');
    for (const [n, item] of block.items.entries()) {
      const link = links.nth(n);
      assert.equal(await link.getAttribute('href'), `${shop}/p/${item.id}`);
      assert.equal(await link.getAttribute('target'), '_blank');
      assert.equal(await link.getAttribute('rel'), 'noopener');
      // The accessible name: the product, then its price in the item's currency (a plain number when unknown).
      const name = `${item.title} ${priceText(item, 'de-DE')}`;
      assert.equal(await page.getByRole('link', { name, exact: true }).count(), 1, `a link named "${name}"`);
      const image = link.getByRole('img', { name: item.title, exact: true });
      assert.equal(await image.evaluate((e) => e.tagName), NO_IMAGE.has(item.id) ? 'SPAN' : 'IMG', item.id);
      if (NO_IMAGE.has(item.id)) assert.equal(await image.locator('svg').count(), 1, 'an inline placeholder, nothing fetched');
    }
    assert.equal(await page.getByRole('link', { name: /^Acme Mug 5,00\s€$/ }).count(), 1, 'EUR, German style');
    assert.equal(await page.getByRole('link', { name: /^Cora Chair 80,00$/ }).count(), 1, 'an unknown currency: a plain number');

    await until(() => page.locator('#w').evaluate((host) => [...host.shadowRoot!.querySelectorAll('img')].every((img) => img.complete && img.naturalWidth > 0)), 'the images');
    assert.equal(await rendered(page), 0, 'no layout shift from the skeleton to the loaded block with its images');
    await page.screenshot({ path: `${SCREENSHOTS}block.png` });
    // The measurement can see a shift: something pushed into the page moves what is below.
    await page.evaluate(() => document.getElementById('below')!.before(Object.assign(document.createElement('div'), { style: 'height:40px' })));
    assert.ok((await rendered(page)) > 0, 'the layout-shift observer reports a real shift');
    assert.deepEqual(consoleOf(opened), { errors: [], warnings: [] });
  });

  test('a strict Content-Security-Policy (no inline styles, Trusted Types): the same block, no violation', async (t) => {
    const block = await expected('collaborative?item=a1&limit=5');
    const csp = `default-src 'none'; script-src ${api}; connect-src ${api}; img-src ${shop}; style-src 'none'; require-trusted-types-for 'script'`;
    const opened = await open(t, shop + addPage(widget({ id: 'w', strategy: 'collaborative', item: 'a1', limit: '5' }), csp));
    const { page } = opened;
    await loaded(page, 'w');
    assert.deepEqual(
      await hrefs(page, 'w'),
      block.items.map((i) => `${shop}/p/${i.id}`),
    );
    assert.equal(
      await page
        .locator('#w')
        .getByRole('list')
        .evaluate((list) => getComputedStyle(list).display),
      'grid',
      'its styles apply',
    );
    assert.equal(await page.locator('#w').getByRole('img', { name: 'Acme Mug' }).locator('svg').count(), 1, 'the placeholder too');
    assert.deepEqual(consoleOf(opened), { errors: [], warnings: [] });
  });

  test('styles: custom properties and ::part theme it; the page\'s CSS does not reach in, nor its CSS out; layout="row" scrolls', async (t) => {
    const css = `<style>
      li { padding: 40px; } a { color: rgb(255, 0, 0); } h2 { font-size: 40px; }
      recs-widget { --recs-price-color: rgb(0, 128, 0); --recs-card-width: 300px; }
      recs-widget::part(title) { text-transform: uppercase; }
    </style>`;
    const opened = await open(
      t,
      shop +
        addPage(`${css}<ul id="page-list"><li>the page's own list</li></ul>
      ${widget({ id: 'w', strategy: 'popular', limit: '8', layout: 'row', title: 'Popular' })}`),
    );
    const { page } = opened;
    await loaded(page, 'w');
    // (No named functions inside evaluate(): the test's transpiler would wrap them in a helper the page lacks.)
    const styles = await page.locator('#w').evaluate((host) => {
      const [title, item, link, price, list] = ['h2', 'li', 'a', '[part~=price]', 'ul'].map((selector) => host.shadowRoot!.querySelector(selector)!);
      const items = [...host.shadowRoot!.querySelectorAll('li')];
      return {
        price: getComputedStyle(price).color,
        title: getComputedStyle(title).textTransform,
        titleSize: getComputedStyle(title).fontSize,
        itemPadding: getComputedStyle(item).paddingTop,
        linkColor: getComputedStyle(link).color,
        rows: new Set(items.map((li) => li.offsetTop)).size,
        cardWidth: items[0].offsetWidth,
        scrolls: list.scrollWidth > list.clientWidth,
      };
    });
    assert.deepEqual(styles, {
      price: 'rgb(0, 128, 0)',
      title: 'uppercase',
      titleSize: '20px',
      itemPadding: '0px',
      linkColor: 'rgb(0, 0, 0)',
      rows: 1,
      cardWidth: 300,
      scrolls: true,
    });
    assert.equal(await page.locator('#page-list').evaluate((list) => getComputedStyle(list).display), 'block', "the widget's list style stays inside");
    // Tab to the last card: the row scrolls it into view.
    await page.locator('#w').getByRole('link').last().focus();
    assert.ok(
      await page
        .locator('#w')
        .getByRole('link')
        .last()
        .evaluate((a) => {
          const list = a.closest('ul')!.getBoundingClientRect();
          const card = a.getBoundingClientRect();
          return card.left >= list.left && card.right <= list.right;
        }),
      'the focused card is scrolled into view',
    );
    await page.screenshot({ path: `${SCREENSHOTS}row.png` });
    assert.deepEqual(consoleOf(opened), { errors: [], warnings: [] });
  });

  test('keyboard: Tab reaches every item link, in order, with a visible focus ring', async (t) => {
    const block = await expected('popular?limit=4');
    const opened = await open(t, shop + addPage(`<button id="before">before</button>${widget({ id: 'w', strategy: 'popular', limit: '4' })}<button id="after">after</button>`));
    const { page } = opened;
    await loaded(page, 'w');
    await page.focus('#before');
    for (const item of block.items) {
      await page.keyboard.press('Tab');
      const focused = await page.locator('#w').evaluate((host) => {
        const active = host.shadowRoot!.activeElement;
        return active && { href: active.getAttribute('href'), outline: getComputedStyle(active).outlineStyle };
      });
      assert.deepEqual(focused, { href: `${shop}/p/${item.id}`, outline: 'solid' });
    }
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'after', 'the last item link, then on out of the block');
    assert.deepEqual(consoleOf(opened), { errors: [], warnings: [] });
  });

  test('a click follows the link and stores one click with the request_id and position; recs.track() carries the request_id on', async (t) => {
    const block = await expected('popular?limit=4');
    const opened = await open(t, shop + addPage(widget({ id: 'w', strategy: 'popular', limit: '4' })));
    const { page } = opened;
    const { request_id: requestId } = await loaded(page, 'w');
    const second = block.items[1].id;
    await Promise.all([page.waitForURL(`${shop}/p/${second}`), page.locator('#w').getByRole('link').nth(1).click()]);
    await page.getByRole('heading', { name: `Product ${second}` }).waitFor();

    await until(() => posted('click', requestId).length > 0, 'the click to reach the API');
    assert.deepEqual(await storedEvents('click', requestId), [{ user_id: anonymousUser(requestId), item_id: second, position: 2, source: 'widget' }]);
    assert.equal(posted('click', requestId).length, 1, 'one click, one request');

    // The product page (same origin, same tab, the widget script loaded) hands the request_id on
    // to the shop's own events.
    const payload = await page.evaluate((item) => window.recs.track('purchase', { item, price: 30, quantity: 2, user: 'u9' }), second);
    assert.deepEqual(payload, { type: 'purchase', item_id: second, user_id: 'u9', request_id: requestId, price: 30, quantity: 2 });
    assert.deepEqual(await page.evaluate(() => window.recs.track('view', { item: 'never-clicked' })), { type: 'view', item_id: 'never-clicked' });
    assert.deepEqual(consoleOf(opened), { errors: [], warnings: [] });
  });

  test('an impression once the block is half visible for 1 s: not before, not below the fold, not hidden, once per request', async (t) => {
    // #top is in view; #low loads (it is within the widget's look-ahead) but sits below the fold;
    // #hidden is display:none and never loads.
    const path = addPage(`${widget({ id: 'top', strategy: 'popular', limit: '4' })}
      ${widget({ id: 'hidden', strategy: 'popular', limit: '4', category: 'home', style: 'display:none' })}
      <div style="height:calc(100vh - 20px)"></div>
      ${widget({ id: 'low', strategy: 'popular', limit: '3' })}
      <div style="height:3000px"></div>`);
    const opened = await open(t, shop + path, { pausedClock: true });
    const { page } = opened;
    const top = await loaded(page, 'top');
    const low = await loaded(page, 'low');
    await Promise.all([observed(page, 'top'), observed(page, 'low')]);

    await page.clock.runFor(900);
    assert.equal(await count(page, 'recs-impression', 'top'), 0, 'not before a second');
    await page.clock.runFor(150);
    assert.equal(await count(page, 'recs-impression', 'top'), 1, 'after a second in view');
    assert.equal(await count(page, 'recs-impression', 'low'), 0, 'not below the fold');
    await until(async () => (await storedEvents('impression', top.request_id)).length === top.items.length, 'the impression rows');
    assert.deepEqual(
      await storedEvents('impression', top.request_id),
      top.items.map((i) => ({ user_id: anonymousUser(top.request_id), item_id: i.id, position: i.position, source: 'widget' })),
    );

    // In view for half a second only: no impression.
    await page.locator('#low').evaluate((e) => e.scrollIntoView());
    await observed(page, 'low');
    await page.clock.runFor(500);
    await page.evaluate(() => window.scrollTo(0, 0));
    await observed(page, 'low');
    await page.clock.runFor(2000);
    assert.equal(await count(page, 'recs-impression', 'low'), 0, 'half a second is not an impression');
    assert.equal(await count(page, 'recs-impression', 'top'), 1, 'back in view: still one impression for its request');

    await page.locator('#low').evaluate((e) => e.scrollIntoView());
    await observed(page, 'low');
    await page.clock.runFor(1000);
    assert.equal(await count(page, 'recs-impression', 'low'), 1);
    await until(async () => (await storedEvents('impression', low.request_id)).length === low.items.length, "the second block's impression rows");

    assert.equal(await count(page, 'recs-load', 'hidden'), 0, 'a hidden widget never loads');
    assert.ok(!seen.some((r) => r.url.includes('category=home')), 'nor asks the API');
    assert.equal(posted('impression', top.request_id).length, 1, 'one impression request per block');
    assert.equal(posted('impression', low.request_id).length, 1);
    assert.deepEqual(consoleOf(opened), { errors: [], warnings: [] });
  });

  test("an experiment block: the variant's strategy for the user; its exposure only once it is half visible for 1 s, once", async (t) => {
    const exposures = async (requestId: string) => (await s.pool.query('SELECT user_id, variant, strategy FROM exposures WHERE experiment_id = $1 AND request_id = $2', [EXPERIMENT, requestId])).rows;
    /** No exposure even after the API's buffer was written (its flush interval, in real time). */
    const stillNone = async (requestId: string, why: string) => {
      await new Promise((r) => setTimeout(r, s.config.experiments.exposures.flushIntervalMs + 200));
      assert.deepEqual(await exposures(requestId), [], why);
    };
    // Below the fold, within the widget's look-ahead: fetched at once, not seen.
    const token = signUserToken('viewer', SECRET, 600);
    const path = addPage(`<div style="height:calc(100vh - 20px)"></div>
      ${widget({ id: 'w', strategy: 'popular', experiment: EXPERIMENT, user: 'viewer', 'user-token': token, limit: '2', fallback: 'false' })}
      <div style="height:3000px"></div>`);
    const opened = await open(t, shop + path, { pausedClock: true });
    const { page } = opened;
    const block = await loaded(page, 'w');
    assert.equal(block.personal, true);
    assert.deepEqual(await hrefs(page, 'w'), [`${shop}/p/a4`, `${shop}/p/z9`], "the variant's strategy (recently-viewed), not the element's");
    assert.ok(
      seen.some((r) => r.url.startsWith(`/v1/recommendations?experiment=${EXPERIMENT}&user=viewer&exposure=impression`)),
      'the widget asks for the exposure at the impression',
    );
    await observed(page, 'w');
    await page.clock.runFor(2000);
    await stillNone(block.request_id, 'fetched below the fold: no exposure');
    assert.equal(await s.redis.exists(redisKeys(s.config.redisPrefix).deferredExposure('viewer', block.request_id)), 1, 'it waits for the impression');

    await page.locator('#w').evaluate((e) => e.scrollIntoView());
    await observed(page, 'w');
    await page.clock.runFor(900);
    assert.equal(await count(page, 'recs-impression', 'w'), 0);
    await stillNone(block.request_id, 'in view for less than a second: no exposure');
    await page.clock.runFor(150);
    assert.equal(await count(page, 'recs-impression', 'w'), 1);
    await until(async () => (await exposures(block.request_id)).length > 0, 'the exposure');
    assert.deepEqual(await exposures(block.request_id), [{ user_id: 'viewer', variant: 'rv', strategy: 'recently-viewed' }]);

    // Out of view and back: no second impression, one exposure.
    await page.evaluate(() => window.scrollTo(0, 0));
    await observed(page, 'w');
    await page.locator('#w').evaluate((e) => e.scrollIntoView());
    await observed(page, 'w');
    await page.clock.runFor(2000);
    assert.equal(posted('impression', block.request_id).length, 1);
    await new Promise((r) => setTimeout(r, s.config.experiments.exposures.flushIntervalMs + 200));
    assert.equal((await exposures(block.request_id)).length, 1);
    assert.deepEqual(consoleOf(opened), { errors: [], warnings: [] });
  });

  test("the key's own origin gets the block; another origin is refused by the API: the fallback content, one warning", async (t) => {
    const path = addPage(widget({ id: 'w', strategy: 'popular', limit: '3' }, '<template slot="fallback"><p>See our bestsellers.</p></template>'));
    const home = await open(t, shop + path);
    assert.equal((await loaded(home.page, 'w')).items.length, 3);
    assert.equal(await home.page.getByRole('listitem').count(), 3);
    assert.equal(await home.page.getByText('See our bestsellers.').count(), 0, 'no fallback while there are items');
    assert.deepEqual(consoleOf(home), { errors: [], warnings: [] });

    const away = await open(t, elsewhere + path);
    await until(async () => (await events(away.page)).some((e) => e.type === 'recs-error'), 'the widget to give up');
    assert.ok(
      seen.some((r) => r.origin === elsewhere && r.url.startsWith('/v1/recommendations/popular') && r.status === 403),
      'the API refused it',
    );
    assert.equal(await away.page.getByRole('listitem').count(), 0);
    await away.page.getByText('See our bestsellers.').waitFor({ state: 'visible' });
    await away.page.screenshot({ path: `${SCREENSHOTS}refused-origin.png` });
    const { warnings } = consoleOf(away);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^recs-widget: no recommendations shown: /);
    // Errors only from the browser itself (no arguments: not the page's console calls), about the
    // refused request. The API's refusals of a key carry no CORS headers, so the browser reports
    // a blocked response rather than its 403.
    const refused = `${api}/v1/recommendations/popular?`;
    const lines = away.messages.filter((m) => m.type() === 'error');
    assert.ok(lines.length > 0, 'the browser reports the refused request');
    for (const line of lines) {
      assert.equal(line.args().length, 0, line.text());
      assert.ok(line.text().includes(refused) || line.location().url.startsWith(refused), line.text());
    }
  });

  test("a personal widget: without a token the non-personal block; with the user's token their own, and their clicks", async (t) => {
    const personal = { id: 'w', strategy: 'recently-viewed', user: 'viewer', limit: '2', fallback: 'false' };
    const popular = await expected('popular?limit=2&fallback=false');
    const anonymous = await open(t, shop + addPage(widget(personal)));
    assert.equal((await loaded(anonymous.page, 'w')).personal, false);
    assert.deepEqual(
      await hrefs(anonymous.page, 'w'),
      popular.items.map((i) => `${shop}/p/${i.id}`),
    );
    const refused = consoleOf(anonymous);
    assert.deepEqual(refused.warnings, [], 'falling back is no error');
    assert.deepEqual(refused.errors, ['Failed to load resource: the server responded with a status of 401 (Unauthorized)'], "only the browser's line for the refused personal block");

    const token = signUserToken('viewer', SECRET, 600);
    const own = await open(t, shop + addPage(widget({ ...personal, 'user-token': token })));
    const { request_id: requestId, personal: isPersonal } = await loaded(own.page, 'w');
    assert.equal(isPersonal, true);
    assert.deepEqual(await hrefs(own.page, 'w'), [`${shop}/p/a4`, `${shop}/p/z9`], "viewer's recently viewed, newest first");
    await own.page.screenshot({ path: `${SCREENSHOTS}personal.png` });
    await Promise.all([own.page.waitForURL(`${shop}/p/a4`), own.page.getByRole('link').first().click()]);
    await until(async () => (await storedEvents('click', requestId)).length > 0, 'the click of the personal block');
    assert.deepEqual(await storedEvents('click', requestId), [{ user_id: 'viewer', item_id: 'a4', position: 1, source: 'widget' }]);
    assert.deepEqual(consoleOf(own), { errors: [], warnings: [] });
  });
});
