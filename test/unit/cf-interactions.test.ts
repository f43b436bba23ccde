import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_EVENT_WEIGHTS } from '../../src/config.ts';
import { collectInteractions, InteractionsBuilder, latestTime, selectRows } from '../../src/cf/interactions.ts';

test('builder numbers ids in sorted order whatever the arrival order', () => {
  const b = new InteractionsBuilder();
  b.add('u2', 'sku-b', 1, 100);
  b.add('u1', 'sku-a', 2, 200);
  b.add('u2', 'sku-a', 0.5, 300);
  const x = b.build();
  assert.deepEqual(x.userIds, ['u1', 'u2']);
  assert.deepEqual(x.itemIds, ['sku-a', 'sku-b']);
  assert.deepEqual([...x.users], [1, 0, 1]);
  assert.deepEqual([...x.items], [1, 0, 0]);
  assert.deepEqual([...x.weights], [1, 2, 0.5]);
  assert.deepEqual([...x.times], [100, 200, 300]);
  assert.equal(latestTime(x), 300);
});

test('builder grows past its initial capacity', () => {
  const b = new InteractionsBuilder();
  for (let i = 0; i < 5000; i++) b.add(`u${i % 7}`, `i${i % 13}`, 1, i);
  const x = b.build();
  assert.equal(x.users.length, 5000);
  assert.equal(x.times[4999], 4999);
  assert.equal(x.itemIds[x.items[4999]], `i${4999 % 13}`);
});

test('collectInteractions maps event types to weights and drops weight-0 events', async () => {
  async function* records() {
    yield { user: 'u', item: 'a', type: 'view' as const, ts: 1 };
    yield { user: 'u', item: 'b', type: 'purchase' as const, ts: 2 };
    yield { user: 'u', item: 'c', type: 'click' as const, ts: 3 }; // weight 0: left out
    yield { user: 'v', item: 'a', weight: 4.5, ts: 4 };
    yield { user: 'v', item: 'b', ts: 5 }; // neither: weight 1
  }
  const x = await collectInteractions(records(), DEFAULT_EVENT_WEIGHTS);
  assert.deepEqual(x.itemIds, ['a', 'b']);
  assert.deepEqual([...x.weights], [0.25, 1, 4.5, 1]);
});

test('selectRows keeps the id dictionaries', () => {
  const b = new InteractionsBuilder();
  b.add('u1', 'a', 1, 10);
  b.add('u2', 'b', 2, 20);
  b.add('u3', 'c', 3, 30);
  const x = b.build();
  const y = selectRows(x, Uint32Array.of(2, 0));
  assert.equal(y.itemIds, x.itemIds);
  assert.deepEqual([...y.items], [2, 0]);
  assert.deepEqual([...y.weights], [3, 1]);
  assert.deepEqual([...y.times], [30, 10]);
});
