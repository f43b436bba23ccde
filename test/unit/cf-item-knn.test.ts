// Same 4-user example as cf-similarity.test.ts:
//   u1: A B C    u2: A B    u3: B C    u4: A D
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Similarity } from '../../src/config.ts';
import { InteractionsBuilder } from '../../src/cf/interactions.ts';
import { fitItemKnn, fitItemKnnRange, prepareItemKnn } from '../../src/cf/item-knn.ts';
import { joinShards, neighboursOf, type NeighbourLists } from '../../src/cf/neighbours.ts';
import { similarityFn } from '../../src/cf/similarity.ts';
import { fitOnly } from '../../src/model/model.ts';
import { TopK } from '../../src/cf/topk.ts';

function example() {
  const b = new InteractionsBuilder();
  const baskets: Record<string, string[]> = { u4: ['D', 'A'], u3: ['C', 'B'], u2: ['B', 'A'], u1: ['C', 'A', 'B'] };
  for (const [u, items] of Object.entries(baskets)) for (const i of items) b.add(u, i, 1, 0);
  b.add('u1', 'A', 1, 0); // a repeat: the binary matrix ignores it
  return b.build();
}

function lists(model: NeighbourLists): Record<string, string> {
  const out: Record<string, string> = {};
  model.itemIds.forEach((id, i) => {
    const { ids, scores } = neighboursOf(model, i);
    out[id] = ids.map((n, k) => `${n}:${scores[k].toFixed(4)}`).join(' ');
  });
  return out;
}

test('cosine top-2: best first, self excluded', () => {
  assert.deepEqual(lists(fitItemKnn(example(), { similarity: 'cosine', k: 2 })), {
    A: 'B:0.6667 D:0.5774', // C (0.4082) cut by k
    B: 'C:0.8165 A:0.6667',
    C: 'B:0.8165 A:0.4082',
    D: 'A:0.5774',
  });
});

test('every measure on the example (values worked out in cf-similarity.test.ts)', () => {
  const expected: Record<Similarity, Record<string, string>> = {
    cooccurrence: { A: 'B:2.0000 C:1.0000 D:1.0000', B: 'A:2.0000 C:2.0000', C: 'B:2.0000 A:1.0000', D: 'A:1.0000' },
    cosine: { A: 'B:0.6667 D:0.5774 C:0.4082', B: 'C:0.8165 A:0.6667', C: 'B:0.8165 A:0.4082', D: 'A:0.5774' },
    jaccard: { A: 'B:0.5000 D:0.3333 C:0.2500', B: 'C:0.6667 A:0.5000', C: 'B:0.6667 A:0.2500', D: 'A:0.3333' },
    lift: { A: '', B: '', C: '', D: '' }, // no pair is seen more than 9 times
    llr: { A: 'D:0.6796', B: 'C:1.7261', C: 'B:1.7261', D: 'A:0.6796' },
  };
  for (const [similarity, want] of Object.entries(expected)) {
    assert.deepEqual(lists(fitItemKnn(example(), { similarity: similarity as Similarity, k: 10 })), want, similarity);
  }
});

test('minSupport drops pairs seen together by fewer users', () => {
  assert.deepEqual(lists(fitItemKnn(example(), { similarity: 'cosine', k: 10, minSupport: 2 })), {
    A: 'B:0.6667',
    B: 'C:0.8165 A:0.6667',
    C: 'B:0.8165',
    D: '',
  });
});

test('weighted cosine uses Σ w·w and Σ w² instead of counts', () => {
  const b = new InteractionsBuilder();
  b.add('u1', 'A', 1, 0);
  b.add('u1', 'B', 2, 0);
  b.add('u2', 'A', 2, 0);
  b.add('u2', 'C', 1, 0);
  // A = (1, 2), B = (2, 0), C = (0, 1): cos(A,B) = 2/(√5·2) = 0.4472, cos(A,C) = 2/√5 = 0.8944
  const model = fitItemKnn(b.build(), { similarity: 'cosine', k: 5, weighted: true });
  assert.deepEqual(lists(model).A, 'C:0.8944 B:0.4472');
  assert.throws(() => fitItemKnn(b.build(), { similarity: 'llr', k: 5, weighted: true }), /counts/);
});

test('shards computed separately join into the same model', () => {
  const x = example();
  const options = { similarity: 'jaccard' as const, k: 2 };
  const input = prepareItemKnn(x, options);
  const shards = [fitItemKnnRange(input, 2, 4, options), fitItemKnnRange(input, 0, 1, options), fitItemKnnRange(input, 1, 2, options)];
  assert.deepEqual(joinShards(x.itemIds, shards), fitItemKnn(x, options));
  assert.throws(() => joinShards(x.itemIds, [shards[0], shards[1]]), /gap/);
  assert.throws(() => joinShards(x.itemIds, shards.slice(1)), /end at item 2/);
  assert.equal(input.nUsers, 4);
});

test("fitOnly: the wanted items' lists exactly as the whole fit gives them, the others empty", async () => {
  const x = example();
  const options = { similarity: 'cosine' as const, k: 3 };
  const whole = lists(fitItemKnn(x, options));
  const some = lists(await fitOnly(new Set(['B', 'D', 'not-an-item']))(x.itemIds, prepareItemKnn(x, options), options));
  assert.deepEqual(some, { A: '', B: whole.B, C: '', D: whole.D });
  assert.ok(whole.B !== '' && whole.D !== '');
});

test('untruncated lists (sorted, not heaped) are exactly what the heap gives, ties included', () => {
  // 60 users, 40 items of skewed popularity: popular items co-occur with most items (rows
  // read in index order), rare ones with a few (rows read in first-visit order).
  let seed = 5;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const b = new InteractionsBuilder();
  for (let u = 0; u < 60; u++) {
    for (let e = 2 + Math.floor(rand() * 6); e > 0; e--) b.add(`u${u}`, `i${String(Math.floor(rand() ** 2 * 40)).padStart(2, '0')}`, 1, 0);
  }
  const x = b.build();
  const n = x.itemIds.length;
  const itemsOf = x.userIds.map(() => new Set<number>());
  x.users.forEach((u, r) => itemsOf[u].add(x.items[r]));
  const usersOf = x.itemIds.map((_, i) => itemsOf.filter((items) => items.has(i)).length);

  // Every item's list through TopK (the heap), from brute-force pair counts.
  function heapLists(similarity: Similarity, minSupport: number): NeighbourLists {
    const score = similarityFn(similarity, x.userIds.length);
    const top = new TopK(n);
    const offsets = new Uint32Array(n + 1);
    const neighbours = new Uint32Array(n * n);
    const scores = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      const both = new Float64Array(n);
      for (const items of itemsOf) if (items.has(i)) for (const j of items) both[j]++;
      for (let j = 0; j < n; j++) {
        const s = j === i || both[j] < Math.max(1, minSupport) ? 0 : score(both[j], usersOf[i], usersOf[j]);
        if (s > 0) top.push(j, s);
      }
      offsets[i + 1] = offsets[i] + top.drainInto(neighbours, scores, offsets[i]);
    }
    return { itemIds: x.itemIds, offsets, neighbours: neighbours.slice(0, offsets[n]), scores: scores.slice(0, offsets[n]) };
  }

  const rows = fitItemKnn(x, { similarity: 'cooccurrence', k: n });
  const touched = x.itemIds.map((_, i) => rows.offsets[i + 1] - rows.offsets[i] + 1);
  assert.ok(touched.some((t) => 4 * t > n) && touched.some((t) => 4 * t <= n), 'both kinds of row');
  for (const similarity of ['cooccurrence', 'jaccard', 'cosine', 'lift', 'llr'] as const) {
    for (const minSupport of [1, 2]) {
      const label = `${similarity}, minSupport ${minSupport}`;
      const full = fitItemKnn(x, { similarity, k: n, minSupport });
      assert.deepEqual({ ...full }, { ...heapLists(similarity, minSupport) }, label);
      if (similarity === 'cooccurrence') assert.ok(new Set(full.scores).size < full.scores.length / 4, 'many ties');
      // A smaller k (the heap where a row has more candidates) keeps a prefix of each list.
      for (const k of [1, 3, 8]) {
        const cut = fitItemKnn(x, { similarity, k, minSupport });
        for (let i = 0; i < n; i++) {
          const kept = cut.offsets[i + 1] - cut.offsets[i];
          assert.equal(kept, Math.min(k, full.offsets[i + 1] - full.offsets[i]), `${label}, k ${k}`);
          assert.deepEqual(cut.neighbours.subarray(cut.offsets[i], cut.offsets[i + 1]), full.neighbours.subarray(full.offsets[i], full.offsets[i] + kept), `${label}, k ${k}`);
          assert.deepEqual(cut.scores.subarray(cut.offsets[i], cut.offsets[i + 1]), full.scores.subarray(full.offsets[i], full.offsets[i] + kept), `${label}, k ${k}`);
        }
      }
    }
  }
});
