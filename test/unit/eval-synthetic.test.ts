import assert from 'node:assert/strict';
import { test } from 'node:test';
import { userItemMatrix } from '../../src/cf/csr.ts';
import { syntheticInteractions } from '../../src/eval/synthetic.ts';

test('synthetic interactions are seeded and sized as asked', () => {
  const a = syntheticInteractions({ events: 5000, items: 300, seed: 9 });
  const b = syntheticInteractions({ events: 5000, items: 300, seed: 9 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(syntheticInteractions({ events: 5000, items: 300, seed: 10 }).items, a.items);
  assert.equal(a.users.length, 5000);
  assert.ok(a.itemIds.length <= 300);
  assert.equal(a.userIds.length, Math.round(5000 / 90));
  const end = 1_704_067_200;
  assert.ok(a.times.every((t) => t <= end && t > end - 365 * 86_400));
});

test('popularity is heavy-tailed and users repeat purchases, as in UCI Online Retail', () => {
  const x = syntheticInteractions({ events: 50_000, items: 2000, seed: 1 });
  const m = userItemMatrix(x);
  const users = new Float64Array(m.nCols);
  for (const i of m.indices) users[i]++;
  const byRank = [...users].sort((p, q) => q - p);
  assert.ok(byRank[0] > 20 * byRank[999], `head ${byRank[0]} vs rank 1000 ${byRank[999]}`);
  assert.ok(m.indices.length < 0.9 * x.users.length, 'some (user, item) pairs repeat');
});
