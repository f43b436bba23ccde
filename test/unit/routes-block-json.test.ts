import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_FIELDS, blockTail, fieldSet } from '../../src/http/block-json.ts';
import type { Picked } from '../../src/recommend/filters.ts';
import { NO_LINK_TEMPLATES } from '../../src/recommend/links.ts';

const tricky = {
  id: 'q"1',
  title: 'Mug "Ø" \\ 日本\u2028',
  brand: null,
  category: 'kitchen',
  price: 2.95,
  currency: 'EUR',
  url: 'https://shop.example/q?a=1&b=</script>',
  image_url: null,
  in_stock: false,
};
const plain = { id: 'p2', title: 'Plate', brand: 'Acme', category: 'kitchen', price: null, currency: null, url: null, image_url: null, in_stock: true };
const items: Picked[] = [
  { id: 'q"1', score: 0.1 + 0.2, source: 'collaborative', via: 'collaborative', because: 'seed\n1', fields: tricky },
  { id: 'p2', score: 1_700_000_000_123, source: 'popular', via: 'popular', fields: plain },
];

test('blockTail is the JSON of sources and items, catalog fields included, nulls kept', () => {
  const tail = blockTail(['collaborative', 'popular'], items, ALL_FIELDS, NO_LINK_TEMPLATES);
  const { id: _q, ...trickyFields } = tricky;
  const { id: _p, ...plainFields } = plain;
  assert.deepEqual(JSON.parse(`{${tail}`), {
    sources: ['collaborative', 'popular'],
    items: [
      { id: 'q"1', score: 1, source: 'collaborative', similarity: 0.3, because: 'seed\n1', ...trickyFields },
      { id: 'p2', score: 1, source: 'popular', popularity: 1_700_000_000_000, ...plainFields },
    ],
  });
  // The catalog part is reused from the first write: the same bytes again.
  assert.equal(blockTail(['collaborative', 'popular'], items, ALL_FIELDS, NO_LINK_TEMPLATES), tail);
});

test('only the fields asked for, after the cached whole-catalog JSON was written', () => {
  blockTail([], items, ALL_FIELDS, NO_LINK_TEMPLATES);
  const parsed = JSON.parse(`{${blockTail(['popular'], items.slice(1), fieldSet(['price', 'title']), NO_LINK_TEMPLATES)}`);
  assert.deepEqual(parsed.items, [{ id: 'p2', score: 1, source: 'popular', popularity: 1_700_000_000_000, title: 'Plate', price: null }]);
  assert.deepEqual(JSON.parse(`{${blockTail([], [], fieldSet([]), NO_LINK_TEMPLATES)}`), { sources: [], items: [] });
});

test("url and image_url: the catalog's web URLs, else the shop's templates; written anew when the templates change", () => {
  const links = { product: 'https://shop.example/p/{id}', image: 'https://img.example/{id}.svg' };
  const parsed = JSON.parse(`{${blockTail(['popular'], items, ALL_FIELDS, links)}`);
  assert.deepEqual(
    parsed.items.map((i: { url: string; image_url: string }) => [i.url, i.image_url]),
    [
      ['https://shop.example/q?a=1&b=</script>', 'https://img.example/q%221.svg'],
      ['https://shop.example/p/p2', 'https://img.example/p2.svg'],
    ],
  );
  const unsafe = { ...plain, id: 'x', url: 'javascript:alert(1)' };
  const none = JSON.parse(`{${blockTail([], [{ ...items[1], id: 'x', fields: unsafe }], ALL_FIELDS, NO_LINK_TEMPLATES)}`);
  assert.equal(none.items[0].url, null, 'a URL that is not http(s) is never answered');
});
