import assert from 'node:assert/strict';
import { test } from 'node:test';
import { passes, Selection } from '../../src/recommend/filters.ts';
import type { CatalogFields } from '../../src/recommend/types.ts';

const item = (id: string, brand: string | null, price: number | null, extra: Partial<CatalogFields> = {}): CatalogFields => ({
  id,
  title: id,
  brand,
  category: 'c',
  price,
  currency: null,
  url: null,
  image_url: null,
  in_stock: true,
  ...extra,
});

test('passes: stock, category and price bounds; an item without a price fails a price bound', () => {
  assert.equal(passes({}, item('a', null, null, { in_stock: false })), true);
  assert.equal(passes({ inStock: true }, item('a', null, 1, { in_stock: false })), false);
  assert.equal(passes({ category: 'c' }, item('a', null, 1)), true);
  assert.equal(passes({ category: 'd' }, item('a', null, 1)), false);
  assert.equal(passes({ minPrice: 10, maxPrice: 20 }, item('a', null, 10)), true);
  assert.equal(passes({ minPrice: 10, maxPrice: 20 }, item('a', null, 20)), true);
  assert.equal(passes({ minPrice: 10 }, item('a', null, 9.99)), false);
  assert.equal(passes({ maxPrice: 20 }, item('a', null, 20.01)), false);
  assert.equal(passes({ maxPrice: 20 }, item('a', null, null)), false);
});

test('Selection keeps the first `limit` that fit, never an excluded, repeated or unknown item', () => {
  const sel = new Selection(3, {}, new Set(['x']));
  assert.equal(sel.offer({ id: 'x', score: 9 }, item('x', null, 1), 'popular'), false, 'excluded');
  assert.equal(sel.offer({ id: 'a', score: 8, because: 's' }, item('a', null, 1), 'collaborative'), true);
  assert.equal(sel.offer({ id: 'a', score: 7 }, item('a', null, 1), 'popular'), false, 'already picked');
  assert.equal(sel.offer({ id: 'u', score: 7 }, null, 'popular'), false, 'not in the catalog');
  assert.equal(sel.offer({ id: 'b', score: 6 }, item('b', null, 1), 'popular'), true);
  assert.equal(sel.offer({ id: 'c', score: 5 }, item('c', null, 1), 'popular'), true);
  assert.equal(sel.offer({ id: 'd', score: 4 }, item('d', null, 1), 'popular'), false, 'full');
  assert.deepEqual(
    sel.picked.map((p) => [p.id, p.source, p.because]),
    [
      ['a', 'collaborative', 's'],
      ['b', 'popular', undefined],
      ['c', 'popular', undefined],
    ],
  );
  assert.equal(sel.remaining, 0);
  assert.deepEqual([...sel.blocked].sort(), ['a', 'b', 'c', 'x']);
});

test('Selection caps items per brand; items without a brand are not capped', () => {
  const sel = new Selection(10, { brandCap: 2 }, new Set());
  const offered = [item('a1', 'A', 1), item('a2', 'A', 1), item('a3', 'A', 1), item('n1', null, 1), item('n2', null, 1), item('n3', null, 1), item('b1', 'B', 1)];
  for (const f of offered) sel.offer({ id: f.id, score: 1 }, f, 'popular');
  assert.deepEqual(
    sel.picked.map((p) => p.id),
    ['a1', 'a2', 'n1', 'n2', 'n3', 'b1'],
  );
});

test('Selection budget: the room left when nothing can reject a candidate, unbounded when a filter may', () => {
  const open = new Selection(5, {}, new Set());
  open.offer({ id: 'a', score: 1 }, item('a', null, 1), 'popular');
  assert.equal(open.budget, 4);
  assert.equal(new Selection(5, { brandCap: 1 }, new Set()).budget, Infinity);
  assert.equal(new Selection(5, { inStock: true }, new Set()).budget, Infinity);
  assert.equal(new Selection(5, { maxPrice: 3 }, new Set()).budget, Infinity);
});
