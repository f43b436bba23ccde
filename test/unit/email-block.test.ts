import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blockItems, templateContext, type Block } from '../../src/email/block.ts';
import { formatPrice } from '../../src/lib/price.ts';
import { imageUrl, productUrl } from '../../src/recommend/links.ts';
import { decodeClickToken } from '../../src/email/click-token.ts';
import { blockKey, emailRequestId } from '../../src/email/identity.ts';
import type { Picked } from '../../src/recommend/filters.ts';
import { matchesEtag } from '../../src/routes/email.ts';
import type { CatalogFields } from '../../src/recommend/types.ts';

const SECRET = 'test-secret-0123456789abcdef-0123456789';
const fields = (id: string, extra: Partial<CatalogFields> = {}): CatalogFields => ({
  id,
  title: `Item ${id}`,
  brand: null,
  category: null,
  price: 12.5,
  currency: 'GBP',
  url: null,
  image_url: null,
  in_stock: true,
  ...extra,
});
const picked = (f: CatalogFields): Picked => ({ id: f.id, score: 1, source: 'collaborative', via: 'collaborative', because: 'x', fields: f });
const TEMPLATES = { product: 'https://shop.example/p/{id}', image: '' };
const LINKS = { secret: SECRET, expiresAt: 4102444800, baseUrl: 'https://recs.example', templates: TEMPLATES };
const only = (product: string, image = '') => ({ product, image });

describe('email block items', () => {
  test('product page: the catalog url when it is a web URL, else the template, else none', () => {
    assert.equal(productUrl({ id: 'a', url: 'https://shop.example/a' }, only('')), 'https://shop.example/a');
    assert.equal(productUrl({ id: 'a b/c', url: null }, only('https://shop.example/p/{id}')), 'https://shop.example/p/a%20b%2Fc');
    assert.equal(productUrl({ id: 'a', url: 'javascript:alert(1)' }, only('https://shop.example/p/{id}')), 'https://shop.example/p/a');
    assert.equal(productUrl({ id: 'a', url: null }, only('')), null);
    assert.equal(imageUrl({ id: 'a', image_url: null }, only('', 'https://img.example/{id}.png')), 'https://img.example/a.png');
    assert.equal(imageUrl({ id: 'a', image_url: 'https://cdn.example/a.jpg' }, only('', 'https://img.example/{id}.png')), 'https://cdn.example/a.jpg');
  });

  test('each item links to a signed click token with its position, user, variant and target', () => {
    const items = blockItems(
      [picked(fields('a')), picked(fields('b', { url: 'https://shop.example/b', image_url: 'javascript:x' }))],
      { tenant: 'default', requestId: 'em-1', user: 'u1', variant: 'cf' },
      LINKS,
    );
    assert.deepEqual(
      items.map((i) => [i.position, i.id, i.title, i.image_url]),
      [
        [1, 'a', 'Item a', null],
        [2, 'b', 'Item b', null],
      ],
    );
    const token = items[1].link!.replace('https://recs.example/v1/r/', '');
    assert.deepEqual(decodeClickToken(token, SECRET, 0), {
      ok: true,
      click: { tenant: 'default', requestId: 'em-1', user: 'u1', item: 'b', position: 2, variant: 'cf', target: 'https://shop.example/b' },
    });
    const none = blockItems([picked(fields('a'))], { tenant: 'default', requestId: 'em-1', user: null, variant: null }, { ...LINKS, templates: only('') });
    assert.equal(none[0].link, null);
  });

  test('prices read as money', () => {
    assert.equal(formatPrice(12.5, 'GBP'), '£12.50');
    assert.equal(formatPrice(3, 'EUR'), '€3.00');
    assert.equal(formatPrice(3, null), '3.00');
    assert.equal(formatPrice(3, 'not a code'), '3.00');
    assert.equal(formatPrice(null, 'GBP'), '');
  });

  test('template context: items and the same items in rows of `columns`', () => {
    const block: Block = {
      request_id: 'em-1',
      strategy: 'popular',
      model_version: 3,
      items: blockItems(
        ['a', 'b', 'c', 'd', 'e'].map((id) => picked(fields(id))),
        { tenant: 'default', requestId: 'em-1', user: null, variant: null },
        LINKS,
      ),
    };
    const context = templateContext(block, 2);
    const rows = context.rows as { cells: { id: string }[] }[];
    assert.deepEqual(
      rows.map((r) => r.cells.map((c) => c.id)),
      [['a', 'b'], ['c', 'd'], ['e']],
    );
    assert.equal(context.cell_width, 50);
    assert.equal((context.items as { price: string }[])[0].price, '£12.50');
  });
});

describe('email block identity', () => {
  const spec = { strategy: 'collaborative', limit: 6, fallback: true };
  test('the block key ignores what does not change the block, and sees what does', () => {
    assert.equal(blockKey(spec), blockKey({ ...spec }));
    assert.notEqual(blockKey(spec), blockKey({ ...spec, limit: 5 }));
    assert.notEqual(blockKey(spec), blockKey({ ...spec, exclude: ['a'] }));
    assert.notEqual(blockKey(spec), blockKey({ ...spec, experiment: 'e1' }));
  });

  test('the request id is a function of user, mail, block, variant and model version', () => {
    const key = blockKey(spec);
    const id = emailRequestId('u1', 'm1', key, 'cf', 7);
    assert.match(id, /^em-[A-Za-z0-9_-]{24}$/);
    assert.equal(emailRequestId('u1', 'm1', key, 'cf', 7), id);
    for (const other of [emailRequestId('u2', 'm1', key, 'cf', 7), emailRequestId('u1', null, key, 'cf', 7), emailRequestId('u1', 'm1', key, 'rv', 7), emailRequestId('u1', 'm1', key, 'cf', 8)]) {
      assert.notEqual(other, id);
    }
  });
});

describe('email HTTP details', () => {
  test('If-None-Match', () => {
    assert.equal(matchesEtag('"abc"', '"abc"'), true);
    assert.equal(matchesEtag('"x", W/"abc"', '"abc"'), true);
    assert.equal(matchesEtag('*', '"abc"'), true);
    assert.equal(matchesEtag('"abd"', '"abc"'), false);
    assert.equal(matchesEtag(undefined, '"abc"'), false);
  });
});
