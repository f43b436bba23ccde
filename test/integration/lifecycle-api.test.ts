// The lifecycle API against a real build, PostgreSQL and Redis: a user's profile, the segments,
// the audiences for ESPs (NDJSON and CSV, whole or paged, their 400s and the 409 of a replaced
// build) and the reactivation block.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildModel, buildOptionsFromConfig } from '../../jobs/lib/build-model.ts';
import { buildApp } from '../../src/app.ts';
import { DEFAULT_AUTH_SETTINGS } from '../../src/auth/settings.ts';
import { inAudience, recordFacts, type Audience } from '../../src/lifecycle/audiences.ts';
import type { ProfileRecord } from '../../src/lifecycle/profiles.ts';
import { SEGMENTS } from '../../src/lifecycle/rfm.ts';
import { segmentSlug } from '../../src/lifecycle/segments.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { addPurchases, AS_OF, HAND_MADE, loadProducts, simulatedPurchases } from '../fixtures/lifecycle/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

type Row = Record<string, unknown> & { user_id: string; segment: string; due_items?: { id: string; due_in_days: number; title: string | null; due_date: string }[] };

describe('lifecycle API (real build, PostgreSQL and Redis)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let version: number;
  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  const ndjson = (res: LightMyRequestResponse): Row[] =>
    res.body
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  const build = async () => (await buildModel(s.pool, s.redis, s.config, { ...buildOptionsFromConfig(s.config), workers: 1, quiet: true })).version;
  const records = async (): Promise<ProfileRecord[]> =>
    (await s.pool.query(`SELECT *, first_purchase::text, last_purchase::text, expected_next_purchase::text FROM lifecycle_profiles ORDER BY user_id`)).rows;
  /** Every member of an audience, by the rule, over every stored profile. */
  const expectedMembers = async (a: Audience) =>
    (await records())
      .filter((r) => inAudience(recordFacts(r), a))
      .map((r) => r.user_id)
      .sort();
  const ok = (res: LightMyRequestResponse) => {
    assert.equal(res.statusCode, 200, res.body);
    return res;
  };

  before(async () => {
    s = await startTestServices();
    s.config.serving.modelRefreshMs = 1;
    await loadProducts(s.pool);
    await addPurchases(s.pool, [...simulatedPurchases(), ...HAND_MADE]);
    // drifter looked at the kettle and the mug lately: the reactivation block's seeds.
    await s.pool.query(
      `INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ('default', 'drifter', 'i5', 'view', '2024-12-20T10:00:00Z'), ('default', 'drifter', 'i6', 'view', '2024-12-21T10:00:00Z')`,
    );
    app = await buildApp(s.config, s, { logger: false });
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('before the first build: every segment defined, none counted; no audience yet', async () => {
    const body = ok(await get('/v1/segments')).json();
    assert.equal(body.model_version, null);
    assert.deepEqual(
      body.segments.map((x: { segment: string; customers: number }) => [x.segment, x.customers]),
      SEGMENTS.map((x) => [x, 0]),
    );
    const res = await get('/v1/audiences/churn-risk');
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error, 'not_built');
    version = await build();
  });

  test('GET /v1/users/{id}/profile: the stored profile, its due items with their catalog fields; 404 without one', async () => {
    const res = ok(await get('/v1/users/habit/profile'));
    assert.equal(res.headers['cache-control'], 'private, no-store');
    const p = res.json();
    assert.equal(p.model_version, version);
    assert.equal(p.as_of, AS_OF);
    assert.deepEqual([p.user_id, p.orders, p.revenue, p.first_purchase, p.last_purchase, p.days_since_last_purchase, p.mean_days_between_orders], ['habit', 8, 12, '2024-10-11', '2024-12-20', 10, 10]);
    assert.equal(p.segment_slug, segmentSlug(p.segment));
    assert.ok(p.p_alive > 0 && p.p_alive <= 1);
    assert.equal(p.churn_risk, Number((1 - p.p_alive).toFixed(6)));
    assert.equal(p.expected_next_purchase, '2024-12-30');
    assert.deepEqual(
      p.due_items.map((d: { id: string; title: string; price: number }) => [d.id, d.title, d.price]),
      [['i1', 'Milk', 1.5]],
    );
    // Due one typical gap (10 days) after the last purchase, counted from the end of the reference day.
    assert.equal(p.due_items[0].due_date, '2024-12-30');
    for (const who of ['nobody', 'onceler%20x']) assert.equal((await get(`/v1/users/${who}/profile`)).statusCode, 404, who);
    const bad = await get('/v1/users/a%00b/profile');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, 'id');
  });

  test("GET /v1/segments: the build's customers per segment, with what each means and the fit", async () => {
    const body = ok(await get('/v1/segments')).json();
    const counts = new Map<string, number>();
    for (const r of await records()) counts.set(r.segment, (counts.get(r.segment) ?? 0) + 1);
    assert.equal(body.model_version, version);
    assert.equal(body.as_of, AS_OF);
    assert.deepEqual(
      body.segments.map((x: { segment: string; customers: number }) => [x.segment, x.customers]),
      SEGMENTS.map((x) => [x, counts.get(x) ?? 0]),
    );
    assert.equal(
      body.customers,
      [...counts.values()].reduce((a, b) => a + b, 0),
    );
    const lost = body.segments.find((x: { slug: string }) => x.slug === 'lost');
    assert.deepEqual(
      [lost.recency, lost.fm],
      [
        [1, 1],
        [1, 2],
      ],
    );
    assert.match(lost.who, /longest since the last purchase/);
    assert.ok(body.bgnbd.converged && body.bgnbd.r > 0);
  });

  test("segment audience as NDJSON: exactly the segment's customers, in user id order, with the fields a template needs", async () => {
    const segment = (await records()).find((r) => r.user_id === 'onceler')!.segment;
    const res = ok(await get(`/v1/audiences/segment/${segmentSlug(segment)}`));
    assert.equal(res.headers['content-type'], 'application/x-ndjson; charset=utf-8');
    assert.equal(res.headers['x-model-version'], String(version));
    assert.equal(res.headers['x-as-of'], AS_OF);
    const rows = ndjson(res);
    assert.deepEqual(
      rows.map((r) => r.user_id),
      await expectedMembers({ name: 'segment', segments: [segment as (typeof SEGMENTS)[number]] }),
    );
    assert.ok(rows.every((r) => r.segment === segment));
    assert.ok(rows.some((r) => r.user_id === 'onceler'));
    const onceler = rows.find((r) => r.user_id === 'onceler')!;
    for (const field of [
      'recency_score',
      'frequency_score',
      'monetary_score',
      'orders',
      'revenue',
      'last_purchase',
      'expected_next_purchase',
      'p_alive',
      'churn_risk',
      'expected_purchases_30d',
      'customer_value_365d',
    ]) {
      assert.ok(field in onceler, field);
    }
    assert.equal(onceler.due_items, undefined, 'due items only in replenishment rows');
  });

  test('CSV, by format= or by Accept: a header, one line per member, the due items of replenishment', async () => {
    const res = ok(await get('/v1/audiences/replenishment-due?within_days=3&format=csv'));
    assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
    assert.match(String(res.headers['content-disposition']), /attachment; filename="replenishment-due-v\d+\.csv"/);
    const lines = res.body.split('\r\n').filter(Boolean);
    const header = lines[0].split(',');
    assert.deepEqual(header.slice(0, 3), ['user_id', 'segment', 'segment_slug']);
    assert.deepEqual(header.slice(-3), ['due_items', 'due_item_titles', 'next_due_date']);
    const members = await expectedMembers({ name: 'replenishment-due', within_days: 3 });
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[0]),
      members,
    );
    const habit = lines.find((l) => l.startsWith('habit,'))!;
    assert.ok(habit.endsWith(',i1,Milk,2024-12-30'), habit);
    const byAccept = ok(await get('/v1/audiences/replenishment-due?within_days=3', { accept: 'text/csv' }));
    assert.equal(byAccept.body, res.body);
  });

  test('replenishment-due: members have an item due within N days, and their rows carry just those items', async () => {
    for (const days of [0, 7, 30]) {
      const rows = ndjson(ok(await get(`/v1/audiences/replenishment-due?within_days=${days}`)));
      assert.deepEqual(
        rows.map((r) => r.user_id),
        await expectedMembers({ name: 'replenishment-due', within_days: days }),
        `within ${days}`,
      );
      for (const r of rows) {
        assert.ok(r.due_items!.length > 0 && r.due_items!.every((d) => d.due_in_days <= days), r.user_id);
        const stored = (await records()).find((x) => x.user_id === r.user_id)!.due_items.filter((d) => d.due_in_days <= days);
        assert.deepEqual(
          r.due_items!.map((d) => d.id),
          stored.map((d) => d.item),
        );
      }
    }
    const week = ndjson(ok(await get('/v1/audiences/replenishment-due')));
    assert.ok(
      week.some((r) => r.user_id === 'habit'),
      'milk is due',
    );
    assert.ok(!week.some((r) => r.user_id === 'onceler' || r.user_id === 'drifter'), 'no habit to replenish, or one lapsed long ago');
  });

  test('reactivation and churn-risk: the members their rules pick among every profile, with the defaults filled', async () => {
    const reactivation = ndjson(ok(await get('/v1/audiences/reactivation')));
    assert.deepEqual(
      reactivation.map((r) => r.user_id),
      await expectedMembers({ name: 'reactivation', max_p_alive: 0.5, gap_multiple: 2, min_revenue: 0 }),
    );
    assert.ok(
      reactivation.some((r) => r.user_id === 'drifter'),
      'silent for 23 of their 10-day gaps',
    );
    const valuable = ndjson(ok(await get('/v1/audiences/reactivation?min_revenue=50&gap_multiple=3&max_p_alive=0.2')));
    assert.deepEqual(
      valuable.map((r) => r.user_id),
      await expectedMembers({ name: 'reactivation', max_p_alive: 0.2, gap_multiple: 3, min_revenue: 50 }),
    );
    assert.ok(!valuable.some((r) => r.user_id === 'drifter'), 'drifter spent 48');
    const churn = ndjson(ok(await get('/v1/audiences/churn-risk?min=0.6')));
    assert.ok(churn.length > 0);
    assert.deepEqual(
      churn.map((r) => r.user_id),
      await expectedMembers({ name: 'churn-risk', min: 0.6 }),
    );
    assert.ok(churn.every((r) => (r.churn_risk as number) >= 0.6));
  });

  test('bad parameters are 400s naming the field', async () => {
    const cases: [string, string][] = [
      ['/v1/audiences/replenishment-due?within_days=-1', 'within_days'],
      ['/v1/audiences/replenishment-due?within_days=soon', 'within_days'],
      ['/v1/audiences/replenishment-due?within_days=1e3', 'within_days'],
      ['/v1/audiences/churn-risk?min=1.5', 'min'],
      ['/v1/audiences/churn-risk?within_days=7', 'within_days'],
      ['/v1/audiences/reactivation?gap_multiple=0', 'gap_multiple'],
      ['/v1/audiences/reactivation?min=0.5', 'min'],
      ['/v1/audiences/segment/vips', 'segment'],
      ['/v1/audiences/segment/lost?min_revenue=10', 'min_revenue'],
      ['/v1/audiences/loyal', 'name'],
      ['/v1/audiences/churn-risk?format=xml', 'format'],
      ['/v1/audiences/churn-risk?limit=0', 'limit'],
      ['/v1/audiences/churn-risk?limit=10001', 'limit'],
      ['/v1/audiences/churn-risk?cursor=not-a-cursor', 'cursor'],
      ['/v1/audiences/churn-risk?colour=red', 'colour'],
    ];
    for (const [url, field] of cases) {
      const res = await get(url);
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().field, field, url);
    }
  });

  test('pages: limit and cursor walk the audience once, in order; a cursor is bound to its audience', async () => {
    const whole = ndjson(ok(await get('/v1/audiences/churn-risk?min=0'))).map((r) => r.user_id);
    assert.ok(whole.length > 40, `${whole.length} members`);
    const paged: string[] = [];
    let url: string | undefined = '/v1/audiences/churn-risk?min=0&limit=15';
    let pages = 0;
    while (url !== undefined) {
      const res = ok(await get(url));
      paged.push(...ndjson(res).map((r) => r.user_id));
      pages++;
      const next = res.headers['x-next-cursor'] as string | undefined;
      if (next !== undefined) {
        assert.equal(res.headers.link, `</v1/audiences/churn-risk?min=0&limit=15&cursor=${next}>; rel="next"`);
        assert.equal(ndjson(res).length, 15);
      }
      url = next === undefined ? undefined : `/v1/audiences/churn-risk?min=0&limit=15&cursor=${next}`;
    }
    assert.deepEqual(paged, whole);
    assert.equal(pages, Math.ceil(whole.length / 15));
    const first = ok(await get('/v1/audiences/churn-risk?min=0&limit=15'));
    const other = await get(`/v1/audiences/churn-risk?min=0.5&limit=15&cursor=${first.headers['x-next-cursor']}`);
    assert.equal(other.statusCode, 400);
    assert.equal(other.json().field, 'cursor');
  });

  test('the reactivation block: recent views, then what goes with them (because), then buy-again or popular', async () => {
    const res = ok(await get('/v1/recommendations/reactivation?user=drifter&limit=6'));
    const items = res.json().items as { id: string; source: string; because?: string }[];
    assert.deepEqual(
      items.slice(0, 2).map((i) => [i.id, i.source]),
      [
        ['i6', 'recently-viewed'],
        ['i5', 'recently-viewed'],
      ],
    );
    const similar = items.filter((i) => i.source === 'collaborative');
    assert.ok(similar.length > 0, JSON.stringify(items));
    assert.ok(similar.every((i) => i.because === 'i5' || i.because === 'i6'));
    assert.ok(items.findIndex((i) => i.source === 'collaborative') > 1, 'after the views');
    const own = ok(await get('/v1/recommendations/reactivation?user=drifter&limit=6&fallback=false')).json();
    assert.deepEqual(own.sources, ['recently-viewed', 'collaborative']);
    // Without views: straight to what they buy again, then popular items.
    const unseen = ok(await get('/v1/recommendations/reactivation?user=onceler&limit=4')).json();
    assert.equal(unseen.items.length, 4);
    assert.ok(
      unseen.sources.every((x: string) => x === 'buy-again' || x === 'popular'),
      unseen.sources.join(),
    );
    const email = ok(await get('/v1/email/reactivation.json?user=drifter&limit=4')).json();
    assert.equal(email.strategy, 'reactivation');
    assert.deepEqual(
      email.items.slice(0, 2).map((i: { id: string }) => i.id),
      ['i6', 'i5'],
    );
    assert.equal((await get('/v1/recommendations/reactivation')).json().field, 'user');
  });

  test('segment moves: every move of the build, paged by cursor in (version, user) order, filtered by segment and time; opted-out users left out', async () => {
    type Move = { user_id: string; version: number; from_segment: string | null; to_segment: string; to_slug: string; changed_at: string };
    const stored = (
      await s.pool.query<{ user_id: string; version: number; to_segment: string }>(`SELECT user_id, version::int AS version, to_segment FROM lifecycle_segment_changes ORDER BY version, user_id`)
    ).rows;
    assert.ok(stored.length > 10, 'the build recorded moves');
    const walked: Move[] = [];
    let cursor: string | null = null;
    do {
      const page: { moves: Move[]; next_cursor: string | null } = ok(await get(`/v1/segments/moves?limit=7${cursor === null ? '' : `&cursor=${cursor}`}`)).json();
      assert.ok(page.moves.length <= 7);
      walked.push(...page.moves);
      cursor = page.next_cursor;
    } while (cursor !== null);
    assert.deepEqual(
      walked.map((m) => [m.user_id, m.version, m.to_segment]),
      stored.map((m) => [m.user_id, m.version, m.to_segment]),
    );
    const lost = ok(await get('/v1/segments/moves?to=lost')).json().moves as Move[];
    assert.deepEqual(
      lost.map((m) => m.user_id),
      stored.filter((m) => m.to_segment === 'Lost').map((m) => m.user_id),
    );
    assert.ok(lost.every((m) => m.to_slug === 'lost'));
    assert.deepEqual(ok(await get('/v1/segments/moves?since=2199-01-01T00:00:00Z')).json(), { moves: [], next_cursor: null });

    const first = walked[0].user_id;
    await s.pool.query(`INSERT INTO users (tenant_id, id, personalization_opt_out) VALUES ('default', $1, true) ON CONFLICT (tenant_id, id) DO UPDATE SET personalization_opt_out = true`, [first]);
    try {
      const all = ok(await get('/v1/segments/moves?limit=10000')).json().moves as Move[];
      assert.equal(all.length, stored.length - stored.filter((m) => m.user_id === first).length);
      assert.ok(!all.some((m) => m.user_id === first));
    } finally {
      await s.pool.query(`UPDATE users SET personalization_opt_out = false WHERE tenant_id = 'default' AND id = $1`, [first]);
    }

    for (const [query, field] of [
      ['since=yesterday', 'since'],
      ['to=nobody', 'to'],
      ['limit=0', 'limit'],
      ['cursor=abc', 'cursor'],
    ]) {
      const res = await get(`/v1/segments/moves?${query}`);
      assert.equal(res.statusCode, 400, query);
      assert.equal(res.json().field, field, query);
    }
    const page = ok(await get('/v1/segments/moves?limit=3')).json();
    const other = await get(`/v1/segments/moves?limit=3&to=lost&cursor=${page.next_cursor}`);
    assert.deepEqual([other.statusCode, other.json().field], [400, 'cursor'], 'a cursor is bound to its parameters');
  });

  test('a page cursor of a build that was replaced is a 409 naming it; without one, the new build answers', async () => {
    const page = ok(await get('/v1/audiences/churn-risk?min=0&limit=5'));
    const cursor = page.headers['x-next-cursor'] as string;
    const next = await build();
    const res = await get(`/v1/audiences/churn-risk?min=0&limit=5&cursor=${cursor}`);
    assert.equal(res.statusCode, 409);
    assert.deepEqual([res.json().error, res.json().field], ['version_changed', 'cursor']);
    assert.equal(ok(await get('/v1/audiences/churn-risk?min=0&limit=5')).headers['x-model-version'], String(next));
  });
  test('a browser key cannot read an audience: server-side keys only', async () => {
    const locked = await buildApp({ ...s.config, auth: { ...DEFAULT_AUTH_SETTINGS, mode: 'required', keyCacheMs: 0 } }, s, { logger: false });
    try {
      const widget = (await createApiKey(s.pool, { name: 'widget', scope: 'read', origins: ['https://shop.example'], rate: null })).key;
      const server = (await createApiKey(s.pool, { name: 'esp', scope: 'read', origins: [], rate: null })).key;
      const fromPage = await locked.inject({ url: '/v1/audiences/churn-risk', headers: { 'x-api-key': widget, origin: 'https://shop.example' } });
      assert.equal(fromPage.statusCode, 403);
      assert.equal(fromPage.json().error, 'server_key_required');
      assert.equal((await locked.inject({ url: '/v1/audiences/churn-risk', headers: { 'x-api-key': server } })).statusCode, 200);
      const profile = await locked.inject({ url: '/v1/users/habit/profile', headers: { 'x-api-key': widget, origin: 'https://shop.example' } });
      assert.equal(profile.statusCode, 401, "a browser key needs the user's token");
    } finally {
      await locked.close();
    }
  });
});
