import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dueProbability, normalSurvival } from '../../src/cf/repeat/due.ts';

test('normal survival: known values, both tails', () => {
  assert.ok(Math.abs(normalSurvival(0) - 0.5) < 1e-7);
  assert.ok(Math.abs(normalSurvival(1.959964) - 0.025) < 1e-7);
  assert.ok(Math.abs(normalSurvival(-1) - 0.8413447461) < 1e-7);
  // Far tail: relative accuracy, not 0.
  assert.ok(Math.abs(normalSurvival(8) / 6.22096057e-16 - 1) < 1e-5);
});

test('due-ness: an item at its usual gap is more due than one bought yesterday, and long overdue fades', () => {
  const mu = Math.log(14);
  const sigma = 0.4;
  const yesterday = dueProbability(mu, sigma, 1, 7);
  const atGap = dueProbability(mu, sigma, 12, 7);
  const overdue = dueProbability(mu, sigma, 200, 7);
  assert.ok(atGap > 0.5 && yesterday < 0.1, `${yesterday} ${atGap}`);
  assert.ok(overdue < atGap);
  // Just bought (elapsed 0): the plain CDF over the horizon.
  assert.ok(Math.abs(dueProbability(mu, sigma, 0, 14) - 0.5) < 1e-7);
  // A longer horizon is never less likely.
  assert.ok(dueProbability(mu, sigma, 5, 30) >= dueProbability(mu, sigma, 5, 7));
});
