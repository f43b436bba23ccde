// Odd but valid input round-trips exactly (events → PostgreSQL → build → Redis → blocks);
// invalid input is refused with a 4xx that names the field, before anything is stored.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { buildShop } from '../fixtures/recs/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

// Emoji with joiners, right-to-left scripts, combining marks, astral planes, URL and JSON
// metacharacters, Redis hash-tag braces, spaces: all valid ids.
const ALICE = '👩‍💻 ana';
const RTL = 'משתמש-٣';
const ODD = 'a}b{c "q" \\ ';
const SHOE = '👟-42';
const ARABIC = 'مُنتَج-١';
const SLASHY = 'x/y?z=1&w=%20#';
const COMBINING = 'Ñandú-é'; // e + U+0301
const ASTRAL = '𝔘𝔫𝔦𝔠𝔬𝔡𝔢';

const PRODUCTS: [string, string, string, string][] = [
  [SHOE, 'Zapatilla «Ñandú» 🧉', 'شركة', 'calzado/ñ'],
  [ARABIC, 'حذاء رياضي', 'شركة', 'calzado/ñ'],
  [SLASHY, 'Title with\ttab and "quotes"', 'Brand/Slash', 'misc'],
  [COMBINING, 'Ñandú', 'Brand/Slash', 'misc'],
  [ASTRAL, '𝔘𝔫𝔦 ✓', 'شركة', 'calzado/ñ'],
];

const q = encodeURIComponent;

describe('unicode round trip and bad input (real PostgreSQL and Redis)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  const get = (url: string) => app.inject({ method: 'GET', url });
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
  const count = async () => (await s.pool.query('SELECT count(*)::int AS n FROM events')).rows[0].n as number;

  before(async () => {
    s = await startTestServices();
    s.config.eventWeights = { purchase: 1, cart: 0, view: 0, click: 0 }; // neighbours from purchases alone
    app = await buildApp(s.config, s, { logger: false });
    for (const [id, title, brand, category] of PRODUCTS) {
      await s.pool.query(`INSERT INTO products (tenant_id, id, title, brand, category, price, in_stock) VALUES ('default', $1, $2, $3, $4, 10, true)`, [id, title, brand, category]);
    }
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('ids and catalog text come back exactly as sent, through events, the build and every block', async () => {
    const at = (minute: number) => `2024-06-01T10:${String(minute).padStart(2, '0')}:00Z`;
    const res = await post('/v1/events', {
      events: [
        { user_id: ALICE, item_id: SHOE, type: 'purchase', occurred_at: at(0) },
        { user_id: ALICE, item_id: ARABIC, type: 'purchase', occurred_at: at(1) },
        { user_id: RTL, item_id: SHOE, type: 'purchase', occurred_at: at(2) },
        { user_id: RTL, item_id: ARABIC, type: 'purchase', occurred_at: at(3) },
        { user_id: RTL, item_id: ASTRAL, type: 'purchase', occurred_at: at(4) },
        { user_id: ODD, item_id: SLASHY, type: 'purchase', occurred_at: at(5) },
        { user_id: ODD, item_id: COMBINING, type: 'purchase', occurred_at: at(6) },
        { user_id: ODD, item_id: ASTRAL, type: 'view', occurred_at: at(7) },
        { user_id: ODD, item_id: SHOE, type: 'view', occurred_at: at(8) },
      ],
    });
    assert.deepEqual(res.json(), { accepted: 9, duplicates: 0, dropped: 0 });

    await buildShop(s);
    const viewed = await get(`/v1/recommendations/recently-viewed?user=${q(ODD)}&fallback=false`);
    assert.deepEqual(
      viewed.json().items.map((i: { id: string }) => i.id),
      [SHOE, ASTRAL],
    );
    const byItem = (await get(`/v1/recommendations/collaborative?item=${q(SHOE)}&fallback=false`)).json();
    assert.deepEqual(
      byItem.items.map((i: { id: string; because: string; title: string }) => [i.id, i.because, i.title]),
      [
        [ARABIC, SHOE, 'حذاء رياضي'],
        [ASTRAL, SHOE, '𝔘𝔫𝔦 ✓'],
      ],
    );
    const forUser = (await get(`/v1/recommendations/collaborative?user=${q(ALICE)}&limit=1&fallback=false`)).json();
    assert.deepEqual(
      forUser.items.map((i: { id: string }) => i.id),
      [ASTRAL],
    );
    const brand = (await get(`/v1/recommendations/same-brand?item=${q(COMBINING)}&fallback=false`)).json();
    assert.deepEqual(
      brand.items.map((i: { id: string; brand: string }) => [i.id, i.brand]),
      [[SLASHY, 'Brand/Slash']],
    );
    assert.equal(brand.items[0].title, 'Title with\ttab and "quotes"');
    const category = (await get(`/v1/recommendations/popular?category=${q('calzado/ñ')}`)).json();
    assert.deepEqual(category.items.map((i: { id: string }) => i.id).sort(), [ARABIC, ASTRAL, SHOE].sort());
  });

  test('an id may have 256 characters, counted as characters (an emoji is one), not 257', async () => {
    assert.equal((await post('/v1/events', { events: [{ user_id: '😀'.repeat(256), item_id: 'i', type: 'view' }] })).statusCode, 200);
    const res = await post('/v1/events', { events: [{ user_id: '😀'.repeat(257), item_id: 'i', type: 'view' }] });
    assert.deepEqual([res.statusCode, res.json().field], [400, 'events[0].user_id']);
    assert.equal((await get(`/v1/recommendations/recently-viewed?user=${'u'.repeat(257)}`)).statusCode, 400);
  });

  // NUL cannot be stored in PostgreSQL text; other controls and lone surrogates are corruption
  // (a lone surrogate cannot even be put in a URL: only JSON can carry one).
  for (const [name, bad] of [
    ['NUL', 'a\u0000b'],
    ['a bell', 'a\u0007b'],
    ['a newline', 'a\nb'],
    ['DEL', 'a\u007fb'],
    ['a lone surrogate', 'a\ud800b'],
  ] as const) {
    test(`an id with ${name} is refused with 400 naming the field, in a body, a query and a path`, async () => {
      const before = await count();
      const body = await post('/v1/events', {
        events: [
          { user_id: 'fine', item_id: 'ok', type: 'view' },
          { user_id: 'fine', item_id: bad, type: 'view' },
        ],
      });
      assert.deepEqual([body.statusCode, body.json().error, body.json().field], [400, 'invalid_request', 'events[1].item_id']);
      assert.equal(await count(), before, 'nothing of the batch is stored');
      if (/\p{Cs}/u.test(bad)) return;
      const query = await get(`/v1/recommendations/collaborative?item=ok&item=${q(bad)}`);
      assert.deepEqual([query.statusCode, query.json().field], [400, 'item[1]']);
      const path = await post(`/v1/users/${q(bad)}/preferences`, { personalization_opt_out: true });
      assert.deepEqual([path.statusCode, path.json().field], [400, 'id']);
    });
  }

  test('free text (an experiment name or salt) may be any Unicode but NUL and lone surrogates, which PostgreSQL cannot store', async () => {
    const experiment = (id: string, name: string, category = 'kitchen') =>
      post('/v1/experiments', {
        id,
        name,
        variants: [
          { key: 'a', strategy: 'popular', control: true, params: { category } },
          { key: 'b', strategy: 'collaborative' },
        ],
      });
    assert.equal((await experiment('ok', 'Ñandú 🧉 «test»\ttab')).statusCode, 201);
    for (const [field, res] of [
      ['name', await experiment('e1', 'a\u0000b')],
      ['name', await experiment('e2', 'a\ud800b')],
      ['variants[0].params.category', await experiment('e3', 'fine', 'a\u0000b')],
    ] as const)
      assert.deepEqual([res.statusCode, res.json().field], [400, field]);
  });

  test('too much or the wrong kind is refused: a body over 2 MiB (413), too many ids (400), a body that is not JSON (415)', async () => {
    const huge = { events: [{ user_id: 'u', item_id: 'x'.repeat(2 * 1024 * 1024), type: 'view' }] };
    assert.equal((await post('/v1/events', huge)).statusCode, 413);
    const items = Array.from({ length: 51 }, (_, i) => `item=i${i}`).join('&');
    const tooMany = await get(`/v1/recommendations/collaborative?${items}`);
    assert.deepEqual([tooMany.statusCode, tooMany.json().field], [400, 'item']);
    const excludes = await get(`/v1/recommendations/popular?exclude=${Array.from({ length: 501 }, (_, i) => `i${i}`).join(',')}`);
    assert.deepEqual([excludes.statusCode, excludes.json().field], [400, 'exclude']);
    const xml = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/xml' }, payload: '<events/>' });
    assert.equal(xml.statusCode, 415);
  });
});
