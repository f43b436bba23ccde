import assert from 'node:assert/strict';
import { test } from 'node:test';
import { purchaseDays } from '../../src/lifecycle/purchase-days.ts';
import { RFM_MAP, SEGMENTS, quintileScores, rfmScores, segmentCounts, segmentOf } from '../../src/lifecycle/rfm.ts';
import { summarizeCustomers } from '../../src/lifecycle/summary.ts';

test('quintile scores: fifths of the shop, best value 5', () => {
  assert.deepEqual([...quintileScores([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], true)], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  assert.deepEqual([...quintileScores([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], false)], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
});

test('quintile scores: equal values always share a score, the one where their tie starts', () => {
  // Six one-time buyers of ten: all F = 1; the next value beats 60% → F = 4.
  assert.deepEqual([...quintileScores([1, 1, 1, 1, 1, 1, 2, 3, 4, 5], true)], [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]);
  // Everyone equal: everyone 1.
  assert.deepEqual([...quintileScores([7, 7, 7], true)], [1, 1, 1]);
  // Order does not matter.
  const values = [5, 3, 3, 9, 1, 3, 8, 8, 2, 0, 3, 6];
  const scores = quintileScores(values, true);
  const byValue = new Map<number, number>();
  values.forEach((v, i) => {
    if (byValue.has(v)) assert.equal(scores[i], byValue.get(v), `value ${v}`);
    byValue.set(v, scores[i]);
  });
  const reversed = quintileScores([...values].reverse(), true);
  assert.deepEqual([...reversed].reverse(), [...scores]);
});

test('the RFM map tiles the R × FM grid: every cell has exactly one segment, every segment a cell', () => {
  const used = new Set<string>();
  for (let r = 1; r <= 5; r++) {
    for (let fm = 1; fm <= 5; fm++) {
      const matches = RFM_MAP.filter((rule) => r >= rule.recency[0] && r <= rule.recency[1] && fm >= rule.fm[0] && fm <= rule.fm[1]);
      assert.equal(matches.length, 1, `R=${r} FM=${fm}: ${matches.map((m) => m.segment)}`);
      used.add(matches[0].segment);
    }
  }
  assert.deepEqual([...used].sort(), [...SEGMENTS].sort());
});

test('segments of typical customers', () => {
  assert.equal(segmentOf(5, 5, 5), 'Champions');
  assert.equal(segmentOf(4, 5, 4), 'Loyal');
  assert.equal(segmentOf(5, 1, 1), 'New');
  assert.equal(segmentOf(4, 1, 2), 'Promising');
  assert.equal(segmentOf(5, 3, 2), 'Potential loyalist');
  assert.equal(segmentOf(3, 3, 3), 'Need attention');
  assert.equal(segmentOf(3, 1, 2), 'About to sleep');
  assert.equal(segmentOf(2, 4, 3), 'At risk');
  assert.equal(segmentOf(1, 5, 5), "Can't lose");
  assert.equal(segmentOf(2, 1, 1), 'Hibernating');
  assert.equal(segmentOf(1, 1, 2), 'Lost');
});

test('rfmScores from summaries: recency in days as of the reference day, counts per segment', () => {
  const day = (d: number) => d * 86_400 + 3600;
  // Ten customers: u0 bought long ago once, cheaply … u9 often, recently, a lot.
  const purchases = Array.from({ length: 10 }, (_, i) => Array.from({ length: i + 1 }, (_, k) => ({ user: `u${i}`, ts: day(100 + 10 * i - k), revenue: 10 * (i + 1) }))).flat();
  const s = summarizeCustomers(purchaseDays(purchases), 'day');
  const rfm = rfmScores(s, 200);
  assert.deepEqual([...rfm.recencyDays], [100, 90, 80, 70, 60, 50, 40, 30, 20, 10]);
  assert.deepEqual([...rfm.recency], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  assert.deepEqual([...rfm.frequency], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  assert.deepEqual([...rfm.monetary], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  assert.deepEqual(rfm.segment, ['Lost', 'Lost', 'Hibernating', 'Hibernating', 'Need attention', 'Need attention', 'Loyal', 'Loyal', 'Champions', 'Champions']);
  const counts = segmentCounts(rfm.segment);
  assert.deepEqual(Object.keys(counts), [...SEGMENTS]);
  assert.equal(counts.Lost, 2);
  assert.equal(counts.New, 0);
  assert.equal(
    Object.values(counts).reduce((a, b) => a + b, 0),
    10,
  );
});
