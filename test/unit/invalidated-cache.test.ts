import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidatedCache } from '../../src/lib/invalidated-cache.ts';
import { LruCache } from '../../src/lib/lru-cache.ts';

function connected(maxAgeMs = 60_000, clock = { now: 0 }) {
  const lru = new LruCache(100, 100_000);
  const cache = new InvalidatedCache<string>(lru, maxAgeMs, () => clock.now);
  cache.setConnected(true);
  return { cache, lru, clock };
}

test('a kept value is served until its tag changes; other tags keep theirs, and the budget is freed at once', () => {
  const { cache, lru } = connected();
  cache.keep(cache.mark(), ['alice'], 'collab', 'A', 10);
  cache.keep(cache.mark(), ['bob'], 'collab', 'B', 10);
  assert.equal(cache.get('alice', 'collab'), 'A');
  assert.equal(cache.get('alice', 'for-you'), undefined);
  cache.invalidate('alice');
  assert.equal(cache.get('alice', 'collab'), undefined);
  assert.equal(cache.get('bob', 'collab'), 'B');
  assert.equal(lru.stats().entries, 1);
});

test('a value whose data changed while it was being made is not kept; one made after the change is', () => {
  const { cache } = connected();
  const before = cache.mark();
  cache.invalidate('alice');
  cache.keep(before, ['alice'], 'collab', 'stale', 10);
  assert.equal(cache.get('alice', 'collab'), undefined);
  // Another user's change does not spoil the mark.
  cache.invalidate('bob');
  cache.keep(before, ['carol'], 'collab', 'C', 10);
  assert.equal(cache.get('carol', 'collab'), 'C');
  cache.keep(cache.mark(), ['alice'], 'collab', 'fresh', 10);
  assert.equal(cache.get('alice', 'collab'), 'fresh');
});

test("a linked id's value goes when its customer's data changes, and is not kept if the customer changed meanwhile", () => {
  const { cache } = connected();
  cache.keep(cache.mark(), ['anon-1', 'customer'], 'collab', 'linked', 10);
  assert.equal(cache.get('anon-1', 'collab'), 'linked');
  cache.invalidate('customer');
  assert.equal(cache.get('anon-1', 'collab'), undefined);
  const mark = cache.mark();
  cache.invalidate('customer');
  cache.keep(mark, ['anon-1', 'customer'], 'collab', 'stale', 10);
  assert.equal(cache.get('anon-1', 'collab'), undefined);
});

test('nothing is kept while invalidations are not received, nor from a mark taken before they were', () => {
  const lru = new LruCache(100, 100_000);
  const cache = new InvalidatedCache<string>(lru, 60_000);
  cache.keep(cache.mark(), ['alice'], 'collab', 'A', 10);
  assert.equal(cache.get('alice', 'collab'), undefined);
  cache.setConnected(true);
  const mark = cache.mark();
  cache.keep(mark, ['alice'], 'collab', 'A', 10);
  assert.equal(cache.get('alice', 'collab'), 'A');
  // The connection drops: everything goes, and a mark from before it never keeps anything.
  cache.setConnected(false);
  assert.equal(cache.get('alice', 'collab'), undefined);
  cache.setConnected(true);
  cache.keep(mark, ['alice'], 'collab', 'A', 10);
  assert.equal(cache.get('alice', 'collab'), undefined);
});

test('everything changed (a flush): every value and every earlier mark go', () => {
  const { cache, lru } = connected();
  const mark = cache.mark();
  cache.keep(mark, ['alice'], 'collab', 'A', 10);
  cache.keep(mark, ['bob'], 'collab', 'B', 10);
  cache.invalidateAll();
  assert.equal(cache.get('alice', 'collab'), undefined);
  assert.equal(cache.get('bob', 'collab'), undefined);
  assert.equal(lru.stats().entries, 0);
  cache.keep(mark, ['alice'], 'collab', 'A', 10);
  assert.equal(cache.get('alice', 'collab'), undefined);
});

test('a value older than the maximum age is not served', () => {
  const clock = { now: 1000 };
  const { cache } = connected(500, clock);
  cache.keep(cache.mark(), ['alice'], 'buy-again', 'A', 10);
  clock.now = 1500;
  assert.equal(cache.get('alice', 'buy-again'), 'A');
  clock.now = 1501;
  assert.equal(cache.get('alice', 'buy-again'), undefined);
});

test('past the changed tags it remembers, every mark taken before counts as stale (never a stale value kept)', () => {
  const { cache } = connected();
  const mark = cache.mark();
  for (let i = 0; i <= 10_000; i++) cache.invalidate(`user-${i}`);
  cache.keep(mark, ['someone-else'], 'collab', 'X', 10);
  assert.equal(cache.get('someone-else', 'collab'), undefined);
  cache.keep(cache.mark(), ['someone-else'], 'collab', 'X', 10);
  assert.equal(cache.get('someone-else', 'collab'), 'X');
});
