// Experiments limited to an audience, end to end on a real build, PostgreSQL and Redis: only its
// members enter (others get the control, no exposure), whichever path serves the variant, and
// the report breaks the results down by the segment users were in when first exposed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildModel, buildOptionsFromConfig } from '../../jobs/lib/build-model.ts';
import { buildApp } from '../../src/app.ts';
import { inAudience, recordFacts, type Audience } from '../../src/lifecycle/audiences.ts';
import type { ProfileRecord } from '../../src/lifecycle/profiles.ts';
import { segmentSlug } from '../../src/lifecycle/segments.ts';
import { addPurchases, HAND_MADE, loadProducts, simulatedPurchases, type Purchase } from '../fixtures/lifecycle/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const variants = [
  { key: 'control', strategy: 'popular', control: true },
  { key: 'winback', strategy: 'reactivation' },
];

describe('audience-limited experiments (real build, PostgreSQL and Redis)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let profiles: ProfileRecord[];
  const post = (url: string, payload?: object) => app.inject({ method: 'POST', url, ...(payload ? { payload } : {}) });
  const get = (url: string) => app.inject({ method: 'GET', url });
  const build = () => buildModel(s.pool, s.redis, s.config, { ...buildOptionsFromConfig(s.config), workers: 1, quiet: true });
  const members = (a: Audience) => profiles.filter((r) => inAudience(recordFacts(r), a)).map((r) => r.user_id);
  const exposed = async (experiment: string) => (await s.pool.query('SELECT DISTINCT user_id FROM exposures WHERE experiment_id = $1 ORDER BY user_id', [experiment])).rows.map((r) => r.user_id);
  const settle = () => new Promise((r) => setTimeout(r, 150));

  before(async () => {
    s = await startTestServices();
    s.config.serving.modelRefreshMs = 1;
    s.config.experiments.definitionCacheMs = 0;
    s.config.experiments.exposures.flushIntervalMs = 10;
    await loadProducts(s.pool);
    await addPurchases(s.pool, [...simulatedPurchases(), ...HAND_MADE]);
    await build();
    profiles = (await s.pool.query('SELECT * FROM lifecycle_profiles ORDER BY user_id')).rows;
    app = await buildApp(s.config, s, { logger: false });
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test("an audience is defined with the audiences' parameters, segments by slug; bad ones are 400s naming the field", async () => {
    const segment = profiles.find((r) => r.user_id === 'drifter')!.segment;
    const res = await post('/v1/experiments', { id: 'by-segment', variants, audience: { name: 'segment', segments: [segmentSlug(segment)] } });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(res.json().audience, { name: 'segment', segments: [segmentSlug(segment)] });
    const defaults = await post('/v1/experiments', { id: 'lapsing', variants, audience: { name: 'reactivation' } });
    assert.deepEqual(defaults.json().audience, { name: 'reactivation', max_p_alive: 0.5, gap_multiple: 2, min_revenue: 0 });
    assert.equal((await post('/v1/experiments', { id: 'everyone', variants })).json().audience, null);
    const cases: [object, string][] = [
      [{ name: 'segment' }, 'audience.segments'],
      [{ name: 'segment', segments: ['vips'] }, 'audience.segments[0]'],
      [{ name: 'churn-risk', within_days: 3 }, 'audience.within_days'],
      [{ name: 'churn-risk', min: 2 }, 'audience.min'],
      [{ name: 'big-spenders' }, 'audience.name'],
      [{ segments: ['lost'] }, 'audience.name'],
    ];
    for (const [audience, field] of cases) {
      const bad = await post('/v1/experiments', { id: 'bad', variants, audience });
      assert.equal(bad.statusCode, 400, JSON.stringify(audience));
      assert.equal(bad.json().field, field, JSON.stringify(audience));
    }
  });

  test('only members enter: the others get the control and record no exposure, on every path', async () => {
    assert.equal((await post('/v1/experiments/by-segment/start')).statusCode, 200);
    const segment = profiles.find((r) => r.user_id === 'drifter')!.segment;
    const inside = members({ name: 'segment', segments: [segment] });
    const outside = profiles
      .map((r) => r.user_id)
      .filter((u) => !inside.includes(u))
      .slice(0, 15);
    assert.ok(inside.length >= 3 && outside.length > 0);
    for (const user of [...inside, ...outside, 'stranger']) {
      const member = inside.includes(user);
      const block = (await get(`/v1/recommendations?experiment=by-segment&user=${user}`)).json();
      assert.equal(block.in_experiment, member, user);
      if (!member) assert.equal(block.variant, 'control');
      const assignment = (await get(`/v1/experiments/by-segment/assignment?user=${user}`)).json();
      assert.equal(assignment.in_experiment, member, user);
    }
    const mail = (await get(`/v1/email/popular.json?experiment=by-segment&user=${outside[0]}`)).json();
    assert.equal(mail.variant, 'control');
    await settle();
    assert.deepEqual(await exposed('by-segment'), [...inside].sort());
  });

  test('a member who opts out leaves the audience at once', async () => {
    assert.equal((await get('/v1/experiments/by-segment/assignment?user=drifter')).json().in_experiment, true);
    assert.equal((await post('/v1/users/drifter/preferences', { personalization_opt_out: true })).statusCode, 200);
    assert.equal((await get('/v1/experiments/by-segment/assignment?user=drifter')).json().in_experiment, false);
    assert.equal((await get('/v1/recommendations?experiment=by-segment&user=drifter')).json().in_experiment, false);
    await post('/v1/users/drifter/preferences', { personalization_opt_out: false });
  });

  test('the report breaks results down by the segment each visitor was in at first exposure', async () => {
    assert.equal((await post('/v1/experiments/lapsing/start')).statusCode, 200);
    const lapsing = members({ name: 'reactivation', max_p_alive: 0.5, gap_multiple: 2, min_revenue: 0 });
    assert.ok(lapsing.length >= 10, `${lapsing.length} members`);
    const requests = new Map<string, string>();
    for (const user of lapsing) requests.set(user, (await get(`/v1/recommendations?experiment=lapsing&user=${user}`)).json().request_id);
    await settle();
    // A third of them buy from the block they were shown.
    const buyers = lapsing.filter((_, i) => i % 3 === 0);
    const events = buyers.map((user) => ({ user_id: user, item_id: 'i7', type: 'purchase', request_id: requests.get(user), quantity: 1, price: 60 }));
    assert.equal((await post('/v1/events', { events })).statusCode, 200);
    // Those purchases move the buyers to other segments: the report keeps them where they were.
    const segmentAtExposure = new Map(profiles.map((r) => [r.user_id, r.segment]));
    await addPurchases(
      s.pool,
      buyers.flatMap((user) => [340, 350, 360, 364].map((d): Purchase => [user, 'i7', d])),
    );
    await build();
    const moved = (await s.pool.query('SELECT user_id FROM lifecycle_segment_changes WHERE from_segment IS NOT NULL')).rows.map((r) => r.user_id);
    assert.ok(
      moved.some((u) => buyers.includes(u)),
      'some buyers moved',
    );

    const report = (await get('/v1/experiments/lapsing/report')).json();
    const variantOf = new Map((await s.pool.query(`SELECT user_id, variant FROM exposures WHERE experiment_id = 'lapsing'`)).rows.map((r) => [r.user_id, r.variant]));
    const expected = new Map<string, { visitors: number; converters: number }>();
    for (const user of lapsing) {
      const key = `${segmentAtExposure.get(user)}/${variantOf.get(user)}`;
      const cell = expected.get(key) ?? { visitors: 0, converters: 0 };
      cell.visitors++;
      if (buyers.includes(user)) cell.converters++;
      expected.set(key, cell);
    }
    const actual = new Map<string, { visitors: number; converters: number }>();
    for (const { segment, variants: cells } of report.segments as { segment: string; variants: { key: string; visitors: number; converters: number }[] }[]) {
      for (const v of cells) if (v.visitors > 0) actual.set(`${segment}/${v.key}`, { visitors: v.visitors, converters: v.converters });
    }
    assert.deepEqual(actual, expected);
    // Each segment lists every variant, the control first as defined; the whole adds up.
    for (const seg of report.segments)
      assert.deepEqual(
        seg.variants.map((v: { key: string }) => v.key),
        ['control', 'winback'],
      );
    const total = (key: string) => report.segments.reduce((n: number, seg: { variants: { key: string; visitors: number }[] }) => n + seg.variants.find((v) => v.key === key)!.visitors, 0);
    for (const v of report.variants) assert.equal(total(v.key), v.visitors);
    const html = await get('/v1/experiments/lapsing/report.html');
    assert.match(html.body, /By customer segment/);
  });
});
