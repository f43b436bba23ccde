// Attribution and the report on a hand-built data set whose every number is known in advance.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { errorHandler } from '../../src/http/errors.ts';
import { ExposureWriter } from '../../src/experiments/exposure-writer.ts';
import { experimentRoutes } from '../../src/routes/experiments.ts';
import { insertEvents, type NewEvent } from '../../src/store/pg/events.ts';
import type { VariantTotals } from '../../src/experiments/totals.ts';
import { insertExperiment, insertExposures, updateStatus, variantTotals } from '../../src/store/pg/experiments.ts';
import { assertLift, EXPECTED, near, nearInterval } from '../fixtures/experiments/email-expected.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (offset: number) => new Date(T0 + offset);

/**
 * Per copy c (users and requests suffixed -c):
 *   control rv: u1 two exposures, buys 2 × 10 carrying request r1a (also reachable by window: counted once)
 *                  and clicks with r1a;
 *               u2 buys 1 × 30 three days later (window); u3 clicks a day later (window) and buys
 *               1 × 45 eight days later (outside the 7-day window); u4 only views and carts.
 *               → visitors 4, exposures 5, clicks 2, converters 2, revenue 50 (per visitor 20, 30, 0, 0).
 *   cf:         u5 buys 1 × 40 with r5 and 1 × 20 two days later, clicks with r5; u6 buys 2 × 15 after six
 *               days; u7's request r7 is used by a purchase of 1 × 10 by "anon-7" thirty days later
 *               (request attribution: no window, credited to u7); u8 bought 1 × 99 the day before
 *               (before exposure: not counted) and clicks with r8.
 *               → visitors 4, exposures 4, clicks 2, converters 3, revenue 100 (per visitor 60, 30, 10, 0).
 *   brand:      u9 and u10 exposed, nothing else → visitors 2.
 * Every block shows 2 items; the item bought ("sku") is priced in GBP.
 */
async function seed(s: TestServices, experimentId: string, copies: number): Promise<void> {
  await insertExperiment(s.pool, 'default', {
    id: experimentId,
    name: `Email recs <${copies}>`,
    salt: experimentId,
    coverage: 1,
    variants: [
      { key: 'rv', weight: 1 / 3, strategy: 'recently-viewed', params: {}, control: true },
      { key: 'brand', weight: 1 / 3, strategy: 'same-brand', params: {}, control: false },
      { key: 'cf', weight: 1 / 3, strategy: 'collaborative', params: {}, control: false },
    ],
  });
  await updateStatus(s.pool, 'default', experimentId, 'draft', 'running');
  const writer = new ExposureWriter((rows) => insertExposures(s.pool, rows));
  const events: NewEvent[] = [];
  const event = (userId: string, type: NewEvent['type'], offset: number, requestId: string | null = null, quantity = 1, price: number | null = null) =>
    events.push({ userId, itemId: 'sku', type, quantity, price, occurredAt: at(offset), requestId, idempotencyKey: null });
  for (let c = 0; c < copies; c++) {
    const x = (name: string) => `${experimentId}:${name}-${c}`;
    const expose = (user: string, variant: string, request: string, offset = 0) =>
      writer.record({ tenant: 'default', experimentId, variant, userId: x(user), requestId: x(request), strategy: variant, items: ['i1', 'i2'], exposedAt: at(offset) });
    expose('u1', 'rv', 'r1a');
    expose('u1', 'rv', 'r1b', HOUR);
    expose('u2', 'rv', 'r2');
    expose('u3', 'rv', 'r3');
    expose('u4', 'rv', 'r4');
    expose('u5', 'cf', 'r5');
    expose('u6', 'cf', 'r6');
    expose('u7', 'cf', 'r7');
    expose('u8', 'cf', 'r8');
    expose('u9', 'brand', 'r9');
    expose('u10', 'brand', 'r10');
    event(x('u1'), 'purchase', 2 * HOUR, x('r1a'), 2, 10);
    event(x('u1'), 'click', HOUR, x('r1a'));
    event(x('u2'), 'purchase', 3 * DAY, null, 1, 30);
    event(x('u3'), 'click', DAY);
    event(x('u3'), 'purchase', 8 * DAY, null, 1, 45);
    event(x('u4'), 'view', HOUR);
    event(x('u4'), 'cart', HOUR, null, 1, 99);
    event(x('u5'), 'purchase', HOUR, x('r5'), 1, 40);
    event(x('u5'), 'purchase', 2 * DAY, null, 1, 20);
    event(x('u5'), 'click', HOUR, x('r5'));
    event(x('u6'), 'purchase', 6 * DAY, null, 2, 15);
    event(x('anon-7'), 'purchase', 30 * DAY, x('r7'), 1, 10);
    event(x('u8'), 'purchase', -DAY, null, 1, 99);
    event(x('u8'), 'click', 5 * HOUR, x('r8'));
  }
  await writer.close();
  await insertEvents(s.pool, 'default', events);
}

const byVariant = (totals: VariantTotals[]) => Object.fromEntries(totals.map(({ variant, ...rest }) => [variant, rest]));

describe('attribution and the report (real PostgreSQL)', () => {
  let s: TestServices;
  let app: FastifyInstance;

  before(async () => {
    s = await startTestServices();
    await s.pool.query(`INSERT INTO products (tenant_id, id, currency) VALUES ('default', 'sku', 'GBP')`);
    await seed(s, 'small', 1);
    await seed(s, 'large', 10);
    app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } } });
    app.setErrorHandler(errorHandler);
    app.decorateRequest('tenant', 'default');
    await app.register(experimentRoutes, { pool: s.pool });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('by request_id (at any time, to the exposed user) and by user within 7 days of the first exposure, each event once', async () => {
    assert.deepEqual(byVariant(await variantTotals(s.pool, 'default', 'small', 7 * 86_400)), {
      rv: { visitors: 4, exposures: 5, impressions: 10, clicks: 2, converters: 2, revenue: [{ currency: 'GBP', values: [20, 30] }] },
      cf: { visitors: 4, exposures: 4, impressions: 8, clicks: 2, converters: 3, revenue: [{ currency: 'GBP', values: [10, 30, 60] }] },
      brand: { visitors: 2, exposures: 2, impressions: 4, clicks: 0, converters: 0, revenue: [] },
    });
  });

  test("the window is a setting: 10 days take in u3's purchase of day 8; 1 day leaves only request-tagged events", async () => {
    const ten = byVariant(await variantTotals(s.pool, 'default', 'small', 10 * 86_400));
    assert.deepEqual([ten.rv.converters, ten.rv.revenue, ten.cf.revenue], [3, [{ currency: 'GBP', values: [20, 30, 45] }], [{ currency: 'GBP', values: [10, 30, 60] }]]);
    const one = byVariant(await variantTotals(s.pool, 'default', 'small', 86_400));
    // u3's click at exactly one day is outside [first exposure, + 1 day).
    assert.deepEqual(one.rv, { visitors: 4, exposures: 5, impressions: 10, clicks: 1, converters: 1, revenue: [{ currency: 'GBP', values: [20] }] });
    assert.deepEqual(one.cf, { visitors: 4, exposures: 4, impressions: 8, clicks: 2, converters: 2, revenue: [{ currency: 'GBP', values: [10, 40] }] });
  });

  test('GET /report: visitors, CTR, conversion, revenue per visitor in GBP, lifts with intervals, SRM', async () => {
    const res = await app.inject('/v1/experiments/large/report');
    assert.equal(res.statusCode, 200);
    const r = res.json();
    const [rv, brand, cf] = r.variants;
    assert.deepEqual(r.currencies, ['GBP']);
    assert.deepEqual([rv.key, rv.visitors, rv.exposures, rv.impressions, rv.clicks, rv.converters], ['rv', 40, 50, 100, 20, 20]);
    assert.deepEqual([cf.key, cf.visitors, cf.exposures, cf.impressions, cf.clicks, cf.converters], ['cf', 40, 40, 80, 20, 30]);
    assert.deepEqual(
      rv.revenue.map((x: { currency: string; revenue: number; buyers: number }) => [x.currency, x.revenue, x.buyers]),
      [['GBP', 500, 20]],
    );
    assert.deepEqual(
      cf.revenue.map((x: { currency: string; revenue: number; buyers: number }) => [x.currency, x.revenue, x.buyers]),
      [['GBP', 1000, 30]],
    );
    assert.deepEqual([brand.visitors, brand.revenue[0].revenue_per_visitor, brand.conversion_rate], [20, 0, 0]);
    assert.deepEqual([rv.ctr, cf.ctr, rv.conversion_rate, cf.conversion_rate, rv.revenue[0].revenue_per_visitor, cf.revenue[0].revenue_per_visitor], [0.2, 0.25, 0.5, 0.75, 12.5, 25]);
    nearInterval(rv.conversion_rate_ci, EXPECTED.controlConversionCi, 'control conversion', 1e-15);
    nearInterval(rv.revenue[0].revenue_per_visitor_ci, EXPECTED.controlRpvCi, 'control RPV', 0.6 * EXPECTED.controlRpvSe);
    nearInterval(cf.revenue[0].revenue_per_visitor_ci, EXPECTED.cfRpvCi, 'cf RPV', 0.6 * EXPECTED.cfRpvSe);
    assertLift(cf.revenue[0].lift, EXPECTED.rpvLift, 'RPV');
    assertLift(cf.lift.conversion_rate, EXPECTED.conversionLift, 'conversion');
    // Brand: nobody bought, so no relative lift, and the reason instead of an interval.
    assert.deepEqual(
      [brand.revenue[0].lift.relative, brand.revenue[0].lift.relative_ci, brand.revenue[0].lift.relative_note],
      [null, null, 'not estimable: too few buyers in GBP (treatment 0, control 20; 5 needed on each side)'],
    );
    assert.equal(brand.revenue[0].revenue_per_visitor_note, 'no interval: no purchases in GBP');
    assert.deepEqual([brand.conversion_rate_ci.low, brand.lift.conversion_rate.relative], [0, null]);
    // Visitors 40 / 20 / 40 against equal weights: χ² = 8, p = e⁻⁴ = 0.0183: uneven, but not a mismatch at 0.001.
    near(r.srm.chi_square, 8, 'χ²');
    near(r.srm.p_value, Math.exp(-4), 'SRM p');
    assert.equal(r.srm.mismatch, false);
  });

  test('GET /report.html: the same numbers for people', async () => {
    const res = await app.inject('/v1/experiments/large/report.html');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<h1>Email recs &lt;10&gt;<\/h1>/);
    assert.match(res.body, /revenue per visitor \(GBP\) <strong class="up">\+100\.0%<\/strong>\s+\(95% CI \+27\.6% to \+222\.2%\): better than control/);
    assert.match(res.body, /revenue per visitor \(GBP\): not estimable: too few buyers in GBP \(treatment 0, control 20; 5 needed on each side\)/);
    assert.ok(!res.body.includes('∞'));
    assert.match(res.body, /conversion <strong class="up">\+50\.0%<\/strong>\s+\(95% CI \+6\.3% to \+127\.7%\)/);
    assert.match(res.body, /Traffic split matches the weights/);
  });

  test('sample ratio mismatch is flagged on a deliberately skewed split, not on a fair one', async () => {
    for (const [id, a, b] of [
      ['skewed', 1000, 1200],
      ['fair', 1000, 1050],
    ] as const) {
      await insertExperiment(s.pool, 'default', {
        id,
        name: null,
        salt: id,
        coverage: 1,
        variants: [
          { key: 'a', weight: 0.5, strategy: 'popular', params: {}, control: true },
          { key: 'b', weight: 0.5, strategy: 'collaborative', params: {}, control: false },
        ],
      });
      await s.pool.query(
        `INSERT INTO exposures (tenant_id, experiment_id, variant, user_id, request_id, strategy, items)
         SELECT 'default', $1, CASE WHEN i <= $2::int THEN 'a' ELSE 'b' END, 'user-' || i, 'req-' || i, 'popular', '{}' FROM generate_series(1, $2::int + $3::int) AS i`,
        [id, a, b],
      );
    }
    const skewed = (await app.inject('/v1/experiments/skewed/report')).json().srm;
    near(skewed.chi_square, 200 / 11, 'χ²');
    near(skewed.p_value, 2.007865612426481e-5, 'p', 1e-12);
    assert.equal(skewed.mismatch, true);
    assert.match((await app.inject('/v1/experiments/skewed/report.html')).body, /Sample ratio mismatch/);
    const fair = (await app.inject('/v1/experiments/fair/report')).json().srm;
    near(fair.p_value, 0.26945640515977404, 'p', 1e-10);
    assert.equal(fair.mismatch, false);
  });

  test('the attribution window of the route is its option (until src/config.ts carries it)', async () => {
    const wide = Fastify({ logger: false });
    wide.setErrorHandler(errorHandler);
    wide.decorateRequest('tenant', 'default');
    await wide.register(experimentRoutes, { pool: s.pool, attributionWindowDays: 10 });
    const r = (await wide.inject('/v1/experiments/small/report')).json();
    assert.equal(r.attribution_window_days, 10);
    assert.equal(r.variants[0].revenue[0].revenue, 95);
    await wide.close();
  });

  describe('currencies and replayed click links', () => {
    before(async () => {
      await s.pool.query(`INSERT INTO products (tenant_id, id, currency) VALUES ('default', 'gbp-1', 'GBP'), ('default', 'usd-1', 'USD'), ('default', 'no-currency', NULL)`);
      await insertExperiment(s.pool, 'default', {
        id: 'money',
        name: 'Money',
        salt: 'money',
        coverage: 1,
        variants: [
          { key: 'a', weight: 0.5, strategy: 'popular', params: {}, control: true },
          { key: 'b', weight: 0.5, strategy: 'collaborative', params: {}, control: false },
        ],
      });
      const writer = new ExposureWriter((rows) => insertExposures(s.pool, rows));
      const expose = (user: string, variant: string, request: string) =>
        writer.record({ tenant: 'default', experimentId: 'money', variant, userId: user, requestId: request, strategy: 'popular', items: ['gbp-1', 'usd-1', 'no-currency'], exposedAt: at(0) });
      expose('m1', 'a', 'm-r1');
      expose('m2', 'a', 'm-r2');
      expose('m3', 'b', 'm-r3');
      expose('m4', 'b', 'm-r4');
      await writer.close();
      const event = (userId: string, itemId: string, type: NewEvent['type'], offset: number, requestId: string | null, quantity = 1, price: number | null = null): NewEvent => ({
        userId,
        itemId,
        type,
        quantity,
        price,
        occurredAt: at(offset),
        requestId,
        idempotencyKey: null,
      });
      await insertEvents(s.pool, 'default', [
        // m1 follows the gbp-1 link of m-r1 three times (two replays), and usd-1's once.
        event('m1', 'gbp-1', 'click', HOUR, 'm-r1'),
        event('m1', 'gbp-1', 'click', 2 * HOUR, 'm-r1'),
        event('m1', 'gbp-1', 'click', DAY, 'm-r1'),
        event('m1', 'usd-1', 'click', HOUR, 'm-r1'),
        // A request of some other block (not this experiment's), replayed: credited by the window, once.
        event('m2', 'gbp-1', 'click', HOUR, 'elsewhere'),
        event('m2', 'gbp-1', 'click', 2 * HOUR, 'elsewhere'),
        // Clicks without a request_id count per event, as before.
        event('m2', 'usd-1', 'click', HOUR, null),
        event('m2', 'usd-1', 'click', 2 * HOUR, null),
        event('m1', 'gbp-1', 'purchase', 2 * HOUR, 'm-r1', 2, 10),
        event('m1', 'usd-1', 'purchase', 2 * HOUR, 'm-r1', 1, 15),
        event('m1', 'not-in-catalog', 'purchase', 2 * HOUR, 'm-r1', 1, 7),
        event('m1', 'no-currency', 'purchase', 2 * HOUR, 'm-r1', 1, 3),
        event('m2', 'usd-1', 'purchase', DAY, null, 1, 5),
        event('m3', 'gbp-1', 'purchase', DAY, 'm-r3', 1, 99),
      ]);
    });

    test('a (request_id, item) counts one click however often its link is followed; every follow stays stored', async () => {
      const totals = byVariant(await variantTotals(s.pool, 'default', 'money', 7 * 86_400));
      assert.equal(totals.a.clicks, 2 + 1 + 2);
      assert.equal(totals.b.clicks, 0);
      const { rows } = await s.pool.query(`SELECT count(*)::int AS n FROM events WHERE type = 'click' AND user_id IN ('m1', 'm2')`);
      assert.equal(rows[0].n, 8, 'the replays are kept as events');
    });

    test('revenue per currency of the purchased item (unknown item or currency: null), never added up', async () => {
      const totals = byVariant(await variantTotals(s.pool, 'default', 'money', 7 * 86_400));
      assert.deepEqual(totals.a.revenue, [
        { currency: 'GBP', values: [20] },
        { currency: 'USD', values: [5, 15] },
        { currency: null, values: [10] },
      ]);
      assert.deepEqual(totals.b.revenue, [{ currency: 'GBP', values: [99] }]);
      const r = (await app.inject('/v1/experiments/money/report')).json();
      assert.deepEqual(r.currencies, ['GBP', 'USD', null]);
      const rows = (v: { revenue: { currency: string | null; revenue: number; buyers: number; revenue_per_visitor: number }[] }) =>
        v.revenue.map((x) => [x.currency, x.revenue, x.buyers, x.revenue_per_visitor]);
      assert.deepEqual(rows(r.variants[0]), [
        ['GBP', 20, 1, 10],
        ['USD', 20, 2, 10],
        [null, 10, 1, 5],
      ]);
      assert.deepEqual(rows(r.variants[1]), [
        ['GBP', 99, 1, 49.5],
        ['USD', 0, 0, 0],
        [null, 0, 0, 0],
      ]);
      assert.equal(r.variants[1].revenue[1].lift.relative_note, 'not estimable: too few buyers in USD (treatment 0, control 2; 5 needed on each side)');
      const page = (await app.inject('/v1/experiments/money/report.html')).body;
      assert.deepEqual(
        [...page.matchAll(/<h2>Revenue per visitor \(([^)]+)\)<\/h2>/g)].map((m) => m[1]),
        ['GBP', 'USD', 'unknown currency'],
      );
    });
  });
});
