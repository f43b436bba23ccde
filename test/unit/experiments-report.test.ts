import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Experiment } from '../../src/experiments/definition.ts';
import { liftInterval, signedPercent } from '../../src/experiments/format.ts';
import { buildReport } from '../../src/experiments/report.ts';
import { escapeHtml, renderReportHtml } from '../../src/experiments/report-html.ts';
import type { VariantTotals } from '../../src/store/experiments.ts';
import { assertLift, EXPECTED } from '../fixtures/experiments/email-expected.ts';

const experiment: Experiment = {
  id: 'email<1>', name: 'Email "recs" <script>alert(1)</script>', salt: 's', coverage: 1, status: 'running',
  createdAt: new Date('2026-03-01T00:00:00Z'), startedAt: new Date('2026-03-01T09:00:00Z'), stoppedAt: null,
  variants: [
    { key: 'rv', weight: 1, strategy: 'recently-viewed', params: { limit: 6 }, control: true },
    { key: 'cf<b>', weight: 1, strategy: 'collaborative', params: {}, control: false },
    { key: 'new', weight: 2, strategy: 'popular', params: {}, control: false },
  ],
};

// The totals of the hand-built data set (see test/fixtures/experiments/email-expected.ts).
const totals: VariantTotals[] = [
  { variant: 'rv', visitors: 40, exposures: 50, clicks: 20, converters: 20, revenue: 500, revenueSquares: 13_000 },
  { variant: 'cf<b>', visitors: 40, exposures: 40, clicks: 20, converters: 30, revenue: 1000, revenueSquares: 46_000 },
];

describe('report document', () => {
  const report = buildReport(experiment, totals, 7, new Date('2026-03-20T00:00:00Z'));

  test('per-variant metrics, with variants that have no visitors yet reported as zeros', () => {
    const [rv, cf, fresh] = report.variants;
    assert.deepEqual([rv.visitors, rv.exposures, rv.clicks, rv.converters, rv.revenue], [40, 50, 20, 20, 500]);
    assert.equal(rv.ctr, 0.4);
    assert.equal(rv.conversion_rate, 0.5);
    assert.equal(rv.revenue_per_visitor, 12.5);
    assert.equal(cf.revenue_per_visitor, 25);
    assert.deepEqual([fresh.visitors, fresh.ctr, fresh.conversion_rate, fresh.revenue_per_visitor, fresh.lift?.revenue_per_visitor], [0, null, null, null, null]);
    assert.deepEqual(report.variants.map((v) => v.expected_share), [0.25, 0.25, 0.5]);
    assert.equal(rv.lift, null, 'no lift on the control');
    assert.equal(report.experiment.control, 'rv');
  });

  test('lift vs control: Welch and Fieller on the summarised samples', () => {
    assertLift(report.variants[1].lift?.revenue_per_visitor, EXPECTED.rpvLift, 'RPV');
    assertLift(report.variants[1].lift?.conversion_rate, EXPECTED.conversionLift, 'conversion');
  });

  test('sample ratio check against the weights (1:1:2, with nobody in the third variant: flagged)', () => {
    assert.equal(report.srm.df, 2);
    assert.equal(report.srm.mismatch, true);
  });

  test('formats: signed percentages and open interval ends', () => {
    assert.equal(signedPercent(0.19), '+19.0%');
    assert.equal(signedPercent(-0.042), '−4.2%');
    assert.equal(liftInterval(null, 0.5), '−∞ to +50.0%');
  });

  test('the HTML page escapes every string and shows the verdict, bars and whiskers', () => {
    const page = renderReportHtml(report);
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.ok(!page.includes('<script>'), 'no injected markup');
    assert.ok(!page.includes('cf<b>'));
    assert.ok(page.includes('Email &quot;recs&quot; &lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(page.includes('cf&lt;b&gt;'));
    assert.match(page, /revenue per visitor <strong class="up">\+100\.0%<\/strong>\s+\(95% CI \+27\.6% to \+222\.2%\): better than control/);
    assert.match(page, /Sample ratio mismatch/);
    assert.equal((page.match(/class="whisker"/g) ?? []).length, 4, 'a whisker per variant with visitors, per chart');
    // Bars share one scale per chart, up to the highest whisker end (cf: 25 of 32.42 → 77.11%).
    assert.match(page, /<div class="bar" style="width:77\.11%"><\/div><div class="whisker" style="left:54\.22%;width:calc\(100\.00% - 54\.22%\)">/);
    assert.match(page, /below 0\.001/);
  });
});
