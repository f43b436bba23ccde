import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockCache } from '../../src/http/block-cache.ts';
import { LruCache } from '../../src/lib/lru-cache.ts';

test('over the entry bound, the least recently used entry goes (a hit earns a second chance)', () => {
  const cache = new LruCache(2, 1000);
  const space = cache.space<number>();
  space.set('a', 1, 10);
  space.set('b', 2, 10);
  assert.equal(space.get('a'), 1);
  space.set('c', 3, 10);
  assert.equal(space.get('b'), undefined);
  assert.equal(space.get('a'), 1);
  assert.equal(space.get('c'), 3);
  assert.deepEqual(cache.stats(), { hits: 3, misses: 1, evictions: 1, entries: 2, bytes: 20 });
});

test('an entry not read since it came goes before entries that were (one-off reads do not flush the cache)', () => {
  const cache = new LruCache(2, 1000);
  const space = cache.space<number>();
  space.set('hot1', 1, 1);
  space.set('hot2', 2, 1);
  space.get('hot1');
  space.get('hot2');
  space.set('once', 3, 1);
  assert.equal(space.get('once'), undefined);
  assert.equal(space.get('hot1'), 1);
  assert.equal(space.get('hot2'), 2);
});

test('bounded by bytes; replacing a value updates it in place; nothing larger than the budget is kept', () => {
  const cache = new LruCache(100, 100);
  const space = cache.space<string>();
  space.set('a', 'x', 40);
  space.set('b', 'y', 40);
  space.set('a', 'z', 50);
  assert.equal(cache.stats().bytes, 90);
  space.set('c', 'w', 30); // 120 bytes: b, the least recently touched, goes
  assert.equal(space.get('b'), undefined);
  assert.equal(space.get('a'), 'z');
  space.set('huge', 'h', 101);
  assert.equal(space.get('huge'), undefined);
  assert.deepEqual(cache.stats(), { hits: 1, misses: 2, evictions: 1, entries: 2, bytes: 80 });
});

test('spaces share the bounds but not the keys; null is a value (a known miss), not an absence', () => {
  const cache = new LruCache(10, 1000);
  const v1 = cache.space<string | null>();
  const v2 = cache.space<string | null>();
  v1.set('item', 'old', 1);
  v2.set('item', null, 1);
  assert.equal(v1.get('item'), 'old');
  assert.equal(v2.get('item'), null);
  assert.equal(cache.stats().entries, 2);
});

test('stays within its bounds under churn', () => {
  const cache = new LruCache(50, 10_000);
  const space = cache.space<number>();
  for (let i = 0; i < 5000; i++) {
    space.set(`k${i}`, i, 1 + (i % 7));
    space.get(`k${i - (i % 13)}`);
    const { entries, bytes } = cache.stats();
    assert.ok(entries <= 50 && bytes <= 10_000);
  }
  assert.equal(cache.stats().entries, 50);
});

const LINKS = { product: 'https://shop.example/p/{id}', image: '' };

test('block cache: blocks of the live version only; a block computed on a version no longer live is dropped', () => {
  const blocks = new BlockCache(new LruCache(10, 100_000));
  const block = { tail: '"sources":[],"items":[]}', sources: [], items: 0 };
  assert.equal(blocks.get(1, LINKS, 'q'), undefined);
  blocks.set(1, LINKS, 'q', block);
  assert.equal(blocks.get(1, LINKS, 'q'), block);
  assert.equal(blocks.get(2, LINKS, 'q'), undefined, 'v2 went live: v1 blocks are not served');
  blocks.set(1, LINKS, 'r', block); // a request that read v1 before the swap finishes late
  assert.equal(blocks.get(2, LINKS, 'r'), undefined, 'and its block is not kept under v2');
  blocks.set(2, LINKS, 'q', block);
  assert.equal(blocks.get(2, LINKS, 'q'), block);
  assert.equal(blocks.get(1, LINKS, 'q'), undefined, 'a rollback to v1 starts afresh');
  assert.deepEqual([blocks.stats().hits, blocks.stats().misses], [2, 4]);
  assert.equal(blocks.get(2, { ...LINKS }, 'q'), undefined, 'the shop changed its link templates: blocks are written anew');
});
