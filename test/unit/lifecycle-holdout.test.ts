import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectedPurchases, type BgNbdParams } from '../../src/lifecycle/bgnbd.ts';
import { holdoutChartSvg, holdoutReportHtml } from '../../src/lifecycle/chart.ts';
import { holdoutCheck, holdoutTable } from '../../src/lifecycle/holdout.ts';

const PARAMS: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const RFT = {
  x: Float64Array.of(0, 0, 1, 8, 9),
  tx: Float64Array.of(0, 0, 4, 30, 35),
  T: Float64Array.of(20, 38, 30, 38, 38),
};
const HOLDOUT = Float64Array.of(0, 1, 2, 3, 6);

test('groups by calibration repeat purchases (7+ together), means per customer, totals', () => {
  const check = holdoutCheck(PARAMS, RFT, HOLDOUT, 39);
  assert.deepEqual(
    check.groups.map((g) => [g.label, g.customers, g.actual]),
    [
      ['0', 2, 0.5],
      ['1', 1, 2],
      ['7+', 2, 4.5],
    ],
  );
  const e = (i: number) => expectedPurchases(PARAMS, RFT.x[i], RFT.tx[i], RFT.T[i], 39);
  assert.ok(Math.abs(check.groups[0].predicted - (e(0) + e(1)) / 2) < 1e-12);
  assert.ok(Math.abs(check.groups[2].predicted - (e(3) + e(4)) / 2) < 1e-12);
  assert.equal(check.total.customers, 5);
  assert.equal(check.total.actual, 12);
  assert.ok(Math.abs(check.total.predicted - [0, 1, 2, 3, 4].reduce((s, i) => s + e(i), 0)) < 1e-12);

  const table = holdoutTable(check).split('\n');
  assert.equal(table.length, 2 + 3 + 1);
  assert.match(table[4], /^\| 7\+ \| 2 \| 4\.500 \| \d+\.\d{3} \|$/);
  assert.match(table[5], /^\| all \| 5 \| 2\.400 \(total 12\) \|/);
});

test('the SVG chart has one marker per group and series, the page embeds it and the table', () => {
  const check = holdoutCheck(PARAMS, RFT, HOLDOUT, 39);
  const svg = holdoutChartSvg(check, 'UCI <test> & co');
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') && svg.endsWith('</svg>'));
  assert.equal(svg.match(/<polyline /g)?.length, 2);
  assert.equal(svg.match(/<circle /g)?.length, 2 * check.groups.length);
  assert.ok(svg.includes('UCI &lt;test&gt; &amp; co') && !svg.includes('<test>'));
  // Every point lies inside the plot area.
  for (const [, x, y] of svg.matchAll(/cx="([\d.]+)" cy="([\d.]+)"/g)) {
    assert.ok(Number(x) >= 64 && Number(x) <= 616 && Number(y) >= 48 && Number(y) <= 324, `${x},${y}`);
  }
  const html = holdoutReportHtml(check, 'Holdout', ['fitted on 2011']);
  assert.ok(html.startsWith('<!doctype html>') && html.includes(svg.split('\n')[0]) && html.includes('<p>fitted on 2011</p>'));
  assert.equal(html.match(/<tr>/g)?.length, 1 + check.groups.length + 1);
});
