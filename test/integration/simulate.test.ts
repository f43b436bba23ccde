import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runSimulation, type SimulationResult } from '../../jobs/lib/simulate.ts';
import { assign } from '../../src/experiments/assignment.ts';
import { findExperiment } from '../../src/store/pg/experiments.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

// The replay loop end to end on a slice of UCI Online Retail (about 1 customer in 10, at most
// 300 visitors). It checks that the loop is wired right, not which strategy wins.
describe('replay simulation (UCI slice, real import, build, API, PostgreSQL and Redis)', () => {
  let s: TestServices;
  let result: SimulationResult;
  const EXPERIMENT = 'replay-test';

  before(async () => {
    s = await startTestServices();
    const config = { ...s.config, experiments: { ...s.config.experiments, exposures: { ...s.config.experiments.exposures, flushIntervalMs: 20 } } };
    result = await runSimulation(s, config, {
      dataset: 'uci',
      cutoff: new Date('2011-10-01T00:00:00Z'),
      sampleEvery: 10,
      maxVisitors: 300,
      limit: 6,
      viewsPerVisitor: 5,
      experimentId: EXPERIMENT,
      mailId: 'test-mail',
      concurrency: 8,
      log: () => undefined,
    });
  });
  after(async () => {
    await s.close();
  });

  test('train before the cut-off only; visitors are users who bought after it', async () => {
    const { rows } = await s.pool.query(`SELECT max(occurred_at) AS last, count(*)::int AS n FROM events WHERE source = 'uci'`);
    assert.ok(rows[0].last < new Date('2011-10-01T00:00:00Z'));
    assert.equal(rows[0].n, result.trainEvents);
    assert.ok(result.visitors > 100 && result.visitors <= 300, `${result.visitors} visitors`);
    assert.ok(result.heldOutPurchases > result.visitors);
    assert.ok(result.seededViews > 0);
  });

  test('one exposure per visitor, in the variant assignment gives them', async () => {
    const experiment = (await findExperiment(s.pool, 'default', EXPERIMENT))!;
    const { rows } = await s.pool.query<{ user_id: string; variant: string; n: number }>(
      'SELECT user_id, min(variant) AS variant, count(*)::int AS n FROM exposures WHERE experiment_id = $1 GROUP BY user_id',
      [EXPERIMENT],
    );
    assert.equal(rows.length, result.visitors);
    for (const r of rows) {
      assert.equal(r.n, 1, r.user_id);
      assert.equal(r.variant, assign(experiment, r.user_id).variant.key, r.user_id);
    }
  });

  test('clicks (through the tracked links) and purchases carry the request_id of a block of the right variant', async () => {
    const { rows } = await s.pool.query(
      `
      SELECT ev.type, ev.variant AS clicked_variant, x.variant AS exposed_variant, ev.position, x.items, ev.item_id, x.user_id = ev.user_id AS same_user
      FROM events ev LEFT JOIN exposures x ON x.request_id = ev.request_id AND x.experiment_id = $1
      WHERE ev.type IN ('click', 'purchase') AND ev.request_id IS NOT NULL`,
      [EXPERIMENT],
    );
    const clicks = rows.filter((r) => r.type === 'click');
    const purchases = rows.filter((r) => r.type === 'purchase');
    const tallied = Object.values(result.tally).reduce((n, t) => n + t.clicks, 0);
    assert.ok(tallied > 0, 'some visitor bought a recommended item');
    assert.equal(clicks.length, tallied);
    assert.equal(purchases.length, tallied, 'a purchase per click');
    for (const r of rows) {
      assert.ok(r.exposed_variant, `${r.type} of ${r.item_id} matches an exposure`);
      assert.ok(r.same_user);
      assert.ok(r.items.includes(r.item_id), 'the item was in the block');
    }
    for (const c of clicks) {
      assert.equal(c.clicked_variant, c.exposed_variant);
      assert.equal(c.items[c.position - 1], c.item_id, "the position is the item's place in the block");
    }
  });

  test('the report agrees with what the replay credited', () => {
    const { report, tally } = result;
    assert.equal(report.variants.length, 5);
    assert.equal(
      report.variants.reduce((n, v) => n + v.visitors, 0),
      result.visitors,
    );
    for (const v of report.variants) {
      const t = tally[v.key] ?? { visitors: 0, clicks: 0, converters: 0, revenue: 0 };
      assert.equal(v.visitors, t.visitors, v.key);
      assert.equal(v.exposures, t.visitors, v.key);
      assert.equal(v.clicks, t.clicks, v.key);
      assert.equal(v.converters, t.converters, v.key);
      const revenue = v.revenue.reduce((sum, r) => sum + r.revenue, 0);
      assert.ok(Math.abs(revenue - t.revenue) < 1e-6, `${v.key}: ${revenue} vs ${t.revenue}`);
      assert.equal(v.control, v.key === 'recently-viewed');
      assert.equal(v.lift === null, v.control);
    }
    assert.deepEqual(report.currencies, ['GBP']);
    assert.equal(report.srm.df, report.variants.length - 1);
    assert.ok(report.srm.p_value >= 0 && report.srm.p_value <= 1);
  });
});
