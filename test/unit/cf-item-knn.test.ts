// Same 4-user example as cf-similarity.test.ts:
//   u1: A B C    u2: A B    u3: B C    u4: A D
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Similarity } from '../../src/config.ts';
import { InteractionsBuilder } from '../../src/cf/interactions.ts';
import { fitItemKnn, fitItemKnnRange, prepareItemKnn } from '../../src/cf/item-knn.ts';
import { joinShards, neighboursOf, type NeighbourLists } from '../../src/cf/neighbours.ts';

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
