// Attribution and the report on a hand-built data set whose every number is known in advance.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { errorHandler } from '../../src/errors.ts';
import { ExposureWriter } from '../../src/experiments/exposure-writer.ts';
import { experimentRoutes } from '../../src/routes/experiments.ts';
import { insertEvents, type NewEvent } from '../../src/store/events.ts';
import { insertExperiment, updateStatus, variantTotals, type VariantTotals } from '../../src/store/experiments.ts';
import { assertLift, EXPECTED, near } from '../fixtures/experiments/email-expected.ts';
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
 */
async function seed(s: TestServices, experimentId: string, copies: number): Promise<void> {
  await insertExperiment(s.pool, {
    id: experimentId, name: `Email recs <${copies}>`, salt: experimentId, coverage: 1,
    variants: [
      { key: 'rv', weight: 1, strategy: 'recently-viewed', params: {}, control: true },
      { key: 'brand', weight: 1, strategy: 'same-brand', params: {}, control: false },
      { key: 'cf', weight: 1, strategy: 'collaborative', params: {}, control: false },
    ],
  });
  await updateStatus(s.pool, experimentId, 'draft', 'running');
  const writer = new ExposureWriter(s.pool);
  const events: NewEvent[] = [];
  const event = (userId: string, type: NewEvent['type'], offset: number, requestId: string | null = null, quantity = 1, price: number | null = null) =>
    events.push({ userId, itemId: 'sku', type, quantity, price, occurredAt: at(offset), requestId, idempotencyKey: null });
  for (let c = 0; c < copies; c++) {
    const x = (name: string) => `${experimentId}:${name}-${c}`;
    const expose = (user: string, variant: string, request: string, offset = 0) =>
      writer.record({ experimentId, variant, userId: x(user), requestId: x(request), strategy: variant, items: ['i1', 'i2'], exposedAt: at(offset) });
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
  await insertEvents(s.pool, events);
}

const byVariant = (totals: VariantTotals[]) => Object.fromEntries(totals.map(({ variant, ...rest }) => [variant, rest]));

describe('attribution and the report (real PostgreSQL)', () => {
  let s: TestServices;
  let app: FastifyInstance;

  before(async () => {
    s = await startTestServices();
    await seed(s, 'small', 1);
    await seed(s, 'large', 10);
    app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } } });
    app.setErrorHandler(errorHandler);
    await app.register(experimentRoutes, { pool: s.pool });
    await app.ready();
  });
  after(async () => { await app.close(); await s.close(); });

  test('by request_id (at any time, to the exposed user) and by user within 7 days of the first exposure, each event once', async () => {
    assert.deepEqual(byVariant(await variantTotals(s.pool, 'small', 7 * 86_400)), {
      rv: { visitors: 4, exposures: 5, clicks: 2, converters: 2, revenue: 50, revenueSquares: 20 ** 2 + 30 ** 2 },
      cf: { visitors: 4, exposures: 4, clicks: 2, converters: 3, revenue: 100, revenueSquares: 60 ** 2 + 30 ** 2 + 10 ** 2 },
      brand: { visitors: 2, exposures: 2, clicks: 0, converters: 0, revenue: 0, revenueSquares: 0 },
    });
  });

  test('the window is a setting: 10 days take in u3\'s purchase of day 8; 1 day leaves only request-tagged events', async () => {
    const ten = byVariant(await variantTotals(s.pool, 'small', 10 * 86_400));
    assert.deepEqual([ten.rv.converters, ten.rv.revenue, ten.cf.revenue], [3, 95, 100]);
    const one = byVariant(await variantTotals(s.pool, 'small', 86_400));
    // u3's click at exactly one day is outside [first exposure, + 1 day).
    assert.deepEqual(one.rv, { visitors: 4, exposures: 5, clicks: 1, converters: 1, revenue: 20, revenueSquares: 400 });
    assert.deepEqual(one.cf, { visitors: 4, exposures: 4, clicks: 2, converters: 2, revenue: 50, revenueSquares: 40 ** 2 + 10 ** 2 });
  });

  test('GET /report: visitors, CTR, conversion, revenue per visitor, lifts with intervals, SRM', async () => {
    const res = await app.inject('/v1/experiments/large/report');
    assert.equal(res.statusCode, 200);
    const r = res.json();
    const [rv, brand, cf] = r.variants;
    assert.deepEqual([rv.key, rv.visitors, rv.exposures, rv.clicks, rv.converters, rv.revenue], ['rv', 40, 50, 20, 20, 500]);
    assert.deepEqual([cf.key, cf.visitors, cf.exposures, cf.clicks, cf.converters, cf.revenue], ['cf', 40, 40, 20, 30, 1000]);
    assert.deepEqual([brand.visitors, brand.revenue_per_visitor, brand.conversion_rate], [20, 0, 0]);
    assert.deepEqual([rv.ctr, cf.ctr, rv.conversion_rate, cf.conversion_rate, rv.revenue_per_visitor, cf.revenue_per_visitor], [0.4, 0.5, 0.5, 0.75, 12.5, 25]);
    near(rv.revenue_per_visitor_ci.low, EXPECTED.controlRpvCi[0], 'control RPV low');
    near(rv.revenue_per_visitor_ci.high, EXPECTED.controlRpvCi[1], 'control RPV high');
    near(cf.revenue_per_visitor_ci.low, EXPECTED.cfRpvCi[0], 'cf RPV low');
    near(cf.revenue_per_visitor_ci.high, EXPECTED.cfRpvCi[1], 'cf RPV high');
    assertLift(cf.lift.revenue_per_visitor, EXPECTED.rpvLift, 'RPV');
    assertLift(cf.lift.conversion_rate, EXPECTED.conversionLift, 'conversion');
    assert.equal(brand.lift.revenue_per_visitor.relative, -1);
    // Visitors 40 / 20 / 40 against equal weights: χ² = 8, p = e⁻⁴ = 0.0183: uneven, but not a mismatch at 0.001.
    near(r.srm.chi_square, 8, 'χ²');
    near(r.srm.p_value, Math.exp(-4), 'SRM p');
    assert.equal(r.srm.mismatch, false);
  });

  test('GET /report.html: the same numbers for people', async () => {
    const res = await app.inject('/v1/experiments/large/report.html');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<h1>Email recs &lt;10&gt;<\/h1>/);
    assert.match(res.body, /revenue per visitor <strong class="up">\+100\.0%<\/strong>\s+\(95% CI \+27\.6% to \+222\.2%\): better than control/);
    assert.match(res.body, /conversion <strong class="up">\+50\.0%<\/strong>\s+\(95% CI \+6\.3% to \+127\.7%\)/);
    assert.match(res.body, /Traffic split matches the weights/);
  });

  test('sample ratio mismatch is flagged on a deliberately skewed split, not on a fair one', async () => {
    for (const [id, a, b] of [['skewed', 1000, 1200], ['fair', 1000, 1050]] as const) {
      await insertExperiment(s.pool, {
        id, name: null, salt: id, coverage: 1,
        variants: [{ key: 'a', weight: 50, strategy: 'popular', params: {}, control: true }, { key: 'b', weight: 50, strategy: 'collaborative', params: {}, control: false }],
      });
      await s.pool.query(
        `INSERT INTO exposures (experiment_id, variant, user_id, request_id, strategy, items)
         SELECT $1, CASE WHEN i <= $2::int THEN 'a' ELSE 'b' END, 'user-' || i, 'req-' || i, 'popular', '{}' FROM generate_series(1, $2::int + $3::int) AS i`,
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
    await wide.register(experimentRoutes, { pool: s.pool, attributionWindowDays: 10 });
    const r = (await wide.inject('/v1/experiments/small/report')).json();
    assert.equal(r.attribution_window_days, 10);
    assert.equal(r.variants[0].revenue, 95);
    await wide.close();
  });
});
