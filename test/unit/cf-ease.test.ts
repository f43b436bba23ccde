// EASE on 4 users, 3 items:  u1: A B   u2: B C   u3: A B C   u4: A
//   XᵀX = [3 2 1; 2 3 2; 1 2 2],  λ = 1  →  G = [4 2 1; 2 4 2; 1 2 3],  det G = 24
//   P = G⁻¹ = adj(G)/24 = [8 -4 0; -4 11 -6; 0 -6 12] / 24
//   B_ij = -P_ij / P_jj:  B_AB = 4/11, B_BA = 4/8, B_BC = 6/12, B_CB = 6/11, B_AC = B_CA = 0
// score(u, j) = Σ_i x_ui·B_ij, so item i's neighbour list is row i of B.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Matrix, inverse } from 'ml-matrix';
import { fitEase } from '../../src/cf/ease.ts';
import { InteractionsBuilder } from '../../src/cf/interactions.ts';
import { neighboursOf } from '../../src/cf/neighbours.ts';
import { invertSpd } from '../../src/cf/spd-inverse.ts';

function example() {
  const b = new InteractionsBuilder();
  const baskets: Record<string, string[]> = { u1: ['A', 'B'], u2: ['B', 'C'], u3: ['A', 'B', 'C'], u4: ['A'] };
  for (const [u, items] of Object.entries(baskets)) for (const i of items) b.add(u, i, 1, 0);
  return b.build();
}

test('invertSpd gives the hand-computed inverse', () => {
  const p = invertSpd(Float64Array.of(4, 2, 1, 2, 4, 2, 1, 2, 3), 3);
  const expected = [8, -4, 0, -4, 11, -6, 0, -6, 12].map((v) => v / 24);
  p.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `${i}: ${v}`));
});

test('invertSpd agrees with ml-matrix on a random SPD matrix and rejects non-SPD input', () => {
  const n = 40;
  let seed = 3;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const r = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) r.set(i, j, rand());
  const g = r.transpose().mmul(r).add(Matrix.eye(n));
  const p = invertSpd(Float64Array.from(g.to1DArray()), n);
  const q = inverse(g).to1DArray();
  p.forEach((v, i) => assert.ok(Math.abs(v - q[i]) < 1e-9 * Math.max(1, Math.abs(q[i]))));
  assert.throws(() => invertSpd(Float64Array.of(1, 2, 2, 1), 2), /positive definite/);
});

test('EASE neighbour lists are the rows of B, positive weights only', () => {
  const model = fitEase(example(), { lambda: 1, maxItems: 10, k: 5 });
  const row = (item: number) => {
    const { ids, scores } = neighboursOf(model, item);
    return ids.map((id, k) => `${id}:${scores[k].toFixed(6)}`).join(' ');
  };
  assert.equal(row(0), 'B:0.363636'); // 4/11; C has B_AC = 0
  assert.equal(row(1), 'A:0.500000 C:0.500000'); // a tie: smaller id first
  assert.equal(row(2), 'B:0.545455'); // 6/11
});

test('EASE keeps only the maxItems most popular items', () => {
  // Users per item: A 3, B 3, C 2 → with maxItems 2, C is left out (ties A/B both kept).
  const model = fitEase(example(), { lambda: 1, maxItems: 2, k: 5 });
  // G = [4 2; 2 4] → P = [4 -2; -2 4]/12 → B_AB = B_BA = 0.5
  const plain = (item: number) => {
    const { ids, scores, slots, slotBound } = neighboursOf(model, item);
    return { ids, scores: Array.from(scores), slots: Array.from(slots), slotBound };
  };
  assert.deepEqual(plain(0), { ids: ['B'], scores: [0.5], slots: [1], slotBound: 2 });
  assert.deepEqual(plain(1), { ids: ['A'], scores: [0.5], slots: [0], slotBound: 1 });
  assert.deepEqual(plain(2), { ids: [], scores: [], slots: [], slotBound: 0 });
  assert.equal(model.offsets.length, 4);
});
