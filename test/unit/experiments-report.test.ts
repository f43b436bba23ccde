import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Experiment } from '../../src/experiments/definition.ts';
import { bracketed, humanDate, liftInterval, signedMoney, signedPercent } from '../../src/experiments/format.ts';
import { buildReport, currenciesOf, type RevenueJson } from '../../src/experiments/report.ts';
import { renderReportHtml } from '../../src/experiments/report-html.ts';
import { escapeHtml } from '../../src/lib/html.ts';
import { wilsonInterval } from '../../src/experiments/stats.ts';
import type { VariantTotals } from '../../src/experiments/totals.ts';
import { assertLift, EXPECTED, near, nearInterval } from '../fixtures/experiments/email-expected.ts';

const experiment: Experiment = {
  id: 'email<1>',
  name: 'Email "recs" <script>alert(1)</script>',
  salt: 's',
  hashVersion: 2,
  coverage: 1,
  status: 'running',
  createdAt: new Date('2026-03-01T00:00:00Z'),
  startedAt: new Date('2026-03-01T09:00:00Z'),
  stoppedAt: null,
  variants: [
    { key: 'rv', weight: 0.25, strategy: 'recently-viewed', params: { limit: 6 }, control: true },
    { key: 'cf<b>', weight: 0.25, strategy: 'collaborative', params: {}, control: false },
    { key: 'new', weight: 0.5, strategy: 'popular', params: {}, control: false },
  ],
};

const repeat = (values: number[], times: number) => values.flatMap((v) => Array<number>(times).fill(v)).sort((a, b) => a - b);

// The hand-built data set's totals (test/fixtures/experiments/email-expected.ts) in GBP, plus a
// little USD (2 buyers in the control, 6 in cf) and one purchase of an item without a currency.
const totals: VariantTotals[] = [
  {
    variant: 'rv',
    visitors: 40,
    exposures: 50,
    impressions: 300,
    clicks: 20,
    converters: 20,
    revenue: [
      { currency: 'GBP', values: repeat([20, 30], 10) },
      { currency: 'USD', values: [15, 40] },
    ],
  },
  {
    variant: 'cf<b>',
    visitors: 40,
    exposures: 40,
    impressions: 240,
    clicks: 20,
    converters: 30,
    revenue: [
      { currency: 'GBP', values: repeat([60, 30, 10], 10) },
      { currency: 'USD', values: [5, 5, 10, 12, 30, 99] },
      { currency: null, values: [3.5] },
    ],
  },
];

describe('report document', () => {
  const report = buildReport(experiment, totals, 7, new Date('2026-03-20T14:05:00Z'));
  const [rv, cf, fresh] = report.variants;
  const inCurrency = (entries: RevenueJson[], currency: string | null) => entries.find((r) => r.currency === currency)!;

  test('per-variant counts, CTR over items shown, Wilson intervals; variants without visitors are zeros', () => {
    assert.deepEqual([rv.visitors, rv.exposures, rv.impressions, rv.clicks, rv.converters], [40, 50, 300, 20, 20]);
    assert.equal(rv.ctr, 20 / 300);
    assert.deepEqual(rv.ctr_ci, wilsonInterval(20, 300));
    assert.equal(rv.conversion_rate, 0.5);
    nearInterval(rv.conversion_rate_ci, EXPECTED.controlConversionCi, 'control conversion', 1e-15);
    nearInterval(cf.conversion_rate_ci, EXPECTED.cfConversionCi, 'cf conversion', 1e-15);
    assert.deepEqual([fresh.visitors, fresh.ctr, fresh.ctr_ci, fresh.conversion_rate, fresh.conversion_rate_ci, fresh.lift?.conversion_rate], [0, null, null, null, null, null]);
    assert.deepEqual(
      report.variants.map((v) => v.expected_share),
      [0.25, 0.25, 0.5],
    );
    assert.equal(rv.lift, null, 'no lift on the control');
    assert.equal(report.experiment.control, 'rv');
  });

  test('revenue per currency: never added up across currencies; the unknown currency is its own (null) bucket, last', () => {
    assert.deepEqual(report.currencies, ['GBP', 'USD', null]);
    assert.deepEqual(
      currenciesOf([
        {
          ...totals[1],
          revenue: [
            { currency: null, values: [1] },
            { currency: 'USD', values: [1] },
            { currency: 'EUR', values: [1] },
          ],
        },
      ]),
      ['EUR', 'USD', null],
    );
    for (const v of report.variants)
      assert.deepEqual(
        v.revenue.map((r) => r.currency),
        ['GBP', 'USD', null],
        'an entry per currency, in order',
      );
    assert.deepEqual(
      rv.revenue.map((r) => [r.revenue, r.buyers, r.revenue_per_visitor]),
      [
        [500, 20, 12.5],
        [55, 2, 55 / 40],
        [0, 0, 0],
      ],
    );
    assert.deepEqual(
      cf.revenue.map((r) => [r.revenue, r.buyers, r.revenue_per_visitor]),
      [
        [1000, 30, 25],
        [161, 6, 161 / 40],
        [3.5, 1, 3.5 / 40],
      ],
    );
    assert.deepEqual(
      fresh.revenue.map((r) => [r.revenue, r.revenue_per_visitor, r.revenue_per_visitor_ci, r.revenue_per_visitor_note, r.lift]),
      [
        [0, null, null, null, null],
        [0, null, null, null, null],
        [0, null, null, null, null],
      ],
    );
    assert.ok(!('revenue_per_visitor' in rv), 'no revenue per visitor summed over currencies');
  });

  test('revenue per visitor: a BCa bootstrap interval (never below 0), or a note saying why there is none', () => {
    const gbp = inCurrency(rv.revenue, 'GBP');
    nearInterval(gbp.revenue_per_visitor_ci, EXPECTED.controlRpvCi, 'control RPV', 0.6 * EXPECTED.controlRpvSe);
    nearInterval(inCurrency(cf.revenue, 'GBP').revenue_per_visitor_ci, EXPECTED.cfRpvCi, 'cf RPV', 0.6 * EXPECTED.cfRpvSe);
    assert.equal(gbp.revenue_per_visitor_note, null);
    assert.deepEqual(buildReport(experiment, totals, 7).variants[0].revenue[0].revenue_per_visitor_ci, gbp.revenue_per_visitor_ci, 'seeded: the same every time');
    const usd = inCurrency(rv.revenue, 'USD');
    assert.deepEqual([usd.revenue_per_visitor_ci, usd.revenue_per_visitor_note], [null, 'no interval: only 2 buyers in USD, 5 needed']);
    assert.ok(inCurrency(cf.revenue, 'USD').revenue_per_visitor_ci!.low >= 0);
    assert.equal(inCurrency(rv.revenue, null).revenue_per_visitor_note, 'no interval: no purchases in an unknown currency');
    assert.equal(inCurrency(cf.revenue, null).revenue_per_visitor_note, 'no interval: only 1 buyer in an unknown currency, 5 needed');
  });

  test('lifts vs control: Welch and Fieller per currency and for conversion', () => {
    assertLift(inCurrency(cf.revenue, 'GBP').lift, EXPECTED.rpvLift, 'RPV');
    assertLift(cf.lift?.conversion_rate, EXPECTED.conversionLift, 'conversion');
    assert.equal(inCurrency(rv.revenue, 'GBP').lift, null, 'none on the control');
  });

  test('a relative lift that is not estimable says why, instead of ±∞', () => {
    const usd = inCurrency(cf.revenue, 'USD').lift!;
    assert.deepEqual(
      { ...usd, difference: null },
      {
        difference: null,
        difference_ci: null,
        p_value: null,
        significant: false,
        relative: null,
        relative_ci: null,
        relative_note: 'not estimable: too few buyers in USD (treatment 6, control 2; 5 needed on each side)',
      },
    );
    near(usd.difference, (161 - 55) / 40, 'USD difference', 1e-12);
    const unknown = inCurrency(cf.revenue, null).lift!;
    assert.deepEqual([unknown.relative, unknown.relative_ci, unknown.relative_note], [null, null, 'not estimable: control has no purchases in an unknown currency']);
    const noConversions = buildReport(experiment, [{ ...totals[0], converters: 0 }, totals[1]], 7).variants[1].lift!.conversion_rate!;
    assert.equal(noConversions.relative_note, 'not estimable: control has no conversions');
  });

  test('sample ratio check against the weights (0.25/0.25/0.5, with nobody in the third variant: flagged)', () => {
    assert.equal(report.srm.df, 2);
    assert.equal(report.srm.mismatch, true);
  });

  test('formats: signed percentages and amounts, intervals, readable UTC dates', () => {
    assert.equal(signedPercent(0.19), '+19.0%');
    assert.equal(signedPercent(-0.042), '−4.2%');
    assert.equal(signedMoney(-0.4), '−0.40');
    assert.equal(signedMoney(1.25), '+1.25');
    assert.equal(liftInterval({ low: -1, high: 0.5 }), '−100.0% to +50.0%');
    assert.equal(
      bracketed({ low: 0.1, high: 0.2 }, (x) => x.toFixed(1)),
      '[0.1, 0.2]',
    );
    assert.equal(bracketed(null, String), '');
    assert.equal(humanDate('2026-12-04T21:48:31.123Z'), '4 Dec 2026, 21:48 UTC');
    assert.equal(humanDate('2026-01-09T03:05:00Z'), '9 Jan 2026, 03:05 UTC');
    assert.equal(humanDate(null), '–');
  });

  describe('the HTML page', () => {
    const page = renderReportHtml(report);

    test('escapes every string', () => {
      assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href&#61;&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
      assert.ok(!page.includes('<script>'), 'no injected markup');
      assert.ok(!page.includes('cf<b>'));
      assert.ok(page.includes('Email &quot;recs&quot; &lt;script&gt;alert(1)&lt;/script&gt;'));
      assert.ok(page.includes('cf&lt;b&gt;'));
    });

    test('verdicts per currency, notes instead of infinities, the SRM warning, readable dates', () => {
      assert.match(page, /revenue per visitor \(GBP\) <strong class="up">\+100\.0%<\/strong>\s+\(95% CI \+27\.6% to \+222\.2%\): better than control/);
      assert.match(page, /conversion <strong class="up">\+50\.0%<\/strong>\s+\(95% CI \+6\.3% to \+127\.7%\): better than control/);
      assert.match(page, /revenue per visitor \(USD\): not estimable: too few buyers in USD \(treatment 6, control 2; 5 needed on each side\)/);
      assert.match(page, /revenue per visitor \(unknown currency\): not estimable: control has no purchases in an unknown currency/);
      assert.match(page, /no interval: only 2 buyers in USD, 5 needed/);
      assert.ok(!page.includes('∞'), 'no infinite interval ends');
      assert.match(page, /Sample ratio mismatch/);
      assert.match(page, /below 0\.001/);
      assert.match(page, /started 1 Mar 2026, 09:00 UTC · stopped –\s+·/);
      assert.match(page, /generated 20 Mar 2026, 14:05 UTC/);
      assert.ok(!/\d{4}-\d\d-\d\dT/.test(page), 'no ISO timestamps');
    });

    test('a revenue section per currency, and bars on one scale per chart with whiskers', () => {
      assert.deepEqual(
        [...page.matchAll(/<h2>Revenue per visitor \(([^)]+)\)<\/h2>/g)].map((m) => m[1]),
        ['GBP', 'USD', 'unknown currency'],
      );
      // Conversion: a whisker per variant with visitors; GBP: both; USD: cf only; unknown: none.
      assert.equal((page.match(/class="whisker"/g) ?? []).length, 2 + 2 + 1);
      // Conversion bars share one scale, up to the highest whisker end (cf: 75% of 85.81% → 87.40%).
      assert.match(page, /<div class="bar" style="width:87\.40%"><\/div><div class="whisker" style="left:69\.69%;width:calc\(100\.00% - 69\.69%\)">/);
    });

    test('fits a 1200 px page: bounded width, fixed table layout, wrapping cells, at most 8 columns a table', () => {
      assert.match(page, /body\{[^}]*max-width:1200px[^}]*box-sizing:border-box/);
      assert.match(page, /table\{[^}]*table-layout:fixed;width:100%/);
      assert.match(page, /th,td\{[^}]*overflow-wrap:anywhere/);
      assert.match(page, /\.row>div\{overflow-wrap:anywhere\}/);
      assert.match(page, /grid-template-columns:minmax\(0,13rem\) minmax\(0,1fr\) minmax\(0,14rem\)/);
      const tables = page.split('<table>').slice(1);
      assert.equal(tables.length, 1 + 3, 'traffic, then one per currency');
      for (const t of tables) assert.ok((t.split('</thead>')[0].match(/<th>/g) ?? []).length <= 8);
    });
  });
});
