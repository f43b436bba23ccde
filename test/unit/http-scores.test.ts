import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockScores, signalJson } from '../../src/http/scores.ts';

test("scores: relative to the run's strongest, each run below the one before, never rising, 4 decimals", () => {
  const items = [
    { via: 'collaborative', score: 3024.0489000000002 },
    { via: 'collaborative', score: 1512 },
    { via: 'collaborative', score: 1000 },
    { via: 'popular', score: 50 },
    { via: 'popular', score: 25 },
    { via: 'recently-viewed', score: 1_700_000_000_000 },
  ] as const;
  const scores = blockScores(items);
  assert.deepEqual(scores, [1, 0.5, 0.3307, 0.3307, 0.1654, 0.1654]);
  for (let i = 1; i < scores.length; i++) assert.ok(scores[i] <= scores[i - 1]);
  assert.ok(scores.every((s) => s >= 0 && s <= 1));
});

test('a run whose signals are not all positive is scored by rank', () => {
  assert.deepEqual(
    blockScores([
      { via: 'for-you', score: 0.4 },
      { via: 'for-you', score: -0.1 },
      { via: 'for-you', score: -2 },
      { via: 'for-you', score: -3 },
    ]),
    [1, 0.75, 0.5, 0.25],
  );
  assert.deepEqual(blockScores([]), []);
});

test('the raw signal in a field named for it', () => {
  assert.equal(signalJson({ via: 'recently-viewed', score: Date.UTC(2024, 4, 1, 10) }), ',"viewed_at":"2024-05-01T10:00:00.000Z"');
  assert.equal(signalJson({ via: 'collaborative', score: 3024.0489000000002 }), ',"similarity":3024.05');
  assert.equal(signalJson({ via: 'category-popular', score: 5 }), ',"popularity":5');
  assert.equal(signalJson({ via: 'buy-again', score: 0.123456789 }), ',"probability":0.123457');
  assert.equal(signalJson({ via: 'for-you', score: -0.5 }), ',"blend_score":-0.5');
});
