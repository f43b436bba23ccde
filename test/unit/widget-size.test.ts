// The widget's budget: what every shop page downloads stays small (docs/widget.md).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { WIDGET_SOURCE } from '../../src/routes/widget.ts';

const BUDGET_BYTES = 10 * 1024;

test('the widget script is at most 10 KB gzipped', () => {
  const gzipped = gzipSync(readFileSync(WIDGET_SOURCE)).length;
  assert.ok(gzipped <= BUDGET_BYTES, `${gzipped} bytes gzipped, over the ${BUDGET_BYTES} bytes budget`);
});
