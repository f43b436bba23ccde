// Audience membership (one rule for exports and experiments), the audience parameters as the
// API takes them, cursors, segment slugs and the CSV of an audience row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { audienceFrom, audienceJson } from '../../src/http/audience-params.ts';
import { decodeCursor, encodeCursor } from '../../src/http/cursor.ts';
import { HttpError } from '../../src/http/errors.ts';
import { csvLine, profileCsv } from '../../src/http/profile-rows.ts';
import { audienceKey, inAudience, type AudienceFacts } from '../../src/lifecycle/audiences.ts';
import { SEGMENTS } from '../../src/lifecycle/rfm.ts';
import { SEGMENT_DEFINITIONS, segmentOfSlug, segmentSlug } from '../../src/lifecycle/segments.ts';

const facts = (f: Partial<AudienceFacts>): AudienceFacts => ({
  segment: 'Loyal',
  pAlive: 0.9,
  recencyDays: 10,
  meanGapDays: 20,
  revenue: 100,
  nextDueDays: null,
  ...f,
});

test('segment: any of the listed segments', () => {
  const a = { name: 'segment', segments: ['At risk', "Can't lose"] } as const;
  assert.ok(inAudience(facts({ segment: "Can't lose" }), { ...a, segments: [...a.segments] }));
  assert.ok(!inAudience(facts({ segment: 'Loyal' }), { ...a, segments: [...a.segments] }));
});

test('churn risk: 1 − P(alive) at least min; no BG/NBD fit, no member', () => {
  const a = { name: 'churn-risk', min: 0.7 } as const;
  assert.ok(inAudience(facts({ pAlive: 0.3 }), a), 'risk 0.7 counts (at least)');
  assert.ok(!inAudience(facts({ pAlive: 0.31 }), a));
  assert.ok(!inAudience(facts({ pAlive: null }), a));
});

test('reactivation: worth min_revenue, and P(alive) low or silent past k × their own mean gap', () => {
  const a = { name: 'reactivation', max_p_alive: 0.5, gap_multiple: 2, min_revenue: 50 } as const;
  assert.ok(inAudience(facts({ pAlive: 0.4 }), a), 'P(alive) below');
  assert.ok(!inAudience(facts({ pAlive: 0.5 }), a), 'not below');
  assert.ok(inAudience(facts({ pAlive: 1, recencyDays: 41, meanGapDays: 20 }), a), 'silent 41 days on a 20-day habit');
  assert.ok(!inAudience(facts({ pAlive: 1, recencyDays: 40, meanGapDays: 20 }), a), 'exactly 2 gaps is not beyond');
  assert.ok(!inAudience(facts({ pAlive: 1, recencyDays: 400, meanGapDays: null }), a), 'one order: no gap of their own');
  assert.ok(!inAudience(facts({ pAlive: 0.1, revenue: 49.99 }), a), 'below the minimum value');
});

test('replenishment: an item due within the days (overdue ones count)', () => {
  const a = { name: 'replenishment-due', within_days: 7 } as const;
  assert.ok(inAudience(facts({ nextDueDays: 7 }), a));
  assert.ok(inAudience(facts({ nextDueDays: -3 }), a));
  assert.ok(!inAudience(facts({ nextDueDays: 7.1 }), a));
  assert.ok(!inAudience(facts({ nextDueDays: null }), a));
});

test('audiences from API parameters: defaults filled, slugs to segments, a parameter of another audience is a 400 naming it', () => {
  assert.deepEqual(audienceFrom('reactivation', { min_revenue: 20 }), { name: 'reactivation', max_p_alive: 0.5, gap_multiple: 2, min_revenue: 20 });
  assert.deepEqual(audienceFrom('replenishment-due', {}), { name: 'replenishment-due', within_days: 7 });
  assert.deepEqual(audienceFrom('segment', { segments: ['cant-lose', 'at-risk'] }), { name: 'segment', segments: ["Can't lose", 'At risk'] });
  assert.deepEqual(audienceJson(audienceFrom('segment', { segments: ['cant-lose'] })), { name: 'segment', segments: ['cant-lose'] });
  const fieldOf = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      assert.ok(err instanceof HttpError && err.statusCode === 400);
      return err.field;
    }
    assert.fail('no 400');
  };
  assert.equal(
    fieldOf(() => audienceFrom('churn-risk', { within_days: 3 })),
    'within_days',
  );
  assert.equal(
    fieldOf(() => audienceFrom('reactivation', { min: 0.5 }, 'audience.')),
    'audience.min',
  );
  assert.equal(
    fieldOf(() => audienceFrom('segment', {}, 'audience.')),
    'audience.segments',
  );
  assert.equal(
    fieldOf(() => audienceFrom('churn-risk', { segments: ['lost'] })),
    'segments',
  );
});

test('the audience key differs with any parameter and ignores the order of segments', () => {
  const keys = [
    audienceKey({ name: 'churn-risk', min: 0.5 }),
    audienceKey({ name: 'churn-risk', min: 0.6 }),
    audienceKey({ name: 'replenishment-due', within_days: 7 }),
    audienceKey({ name: 'reactivation', max_p_alive: 0.5, gap_multiple: 2, min_revenue: 0 }),
    audienceKey({ name: 'reactivation', max_p_alive: 0.5, gap_multiple: 3, min_revenue: 0 }),
  ];
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(audienceKey({ name: 'segment', segments: ['Lost', 'At risk'] }), audienceKey({ name: 'segment', segments: ['At risk', 'Lost'] }));
});

test("cursors: round trip; garbage or another audience's is a 400 naming the cursor", () => {
  const c = { version: 12, after: 'user "7", ünïcode', audience: 'churn-risk:0.5' };
  assert.deepEqual(decodeCursor(encodeCursor(c), 'churn-risk:0.5'), c);
  for (const [text, audience] of [
    ['nonsense', 'churn-risk:0.5'],
    [Buffer.from('[1,2]').toString('base64url'), 'x'],
    [encodeCursor(c), 'churn-risk:0.6'],
  ]) {
    assert.throws(
      () => decodeCursor(text, audience),
      (err: HttpError) => err.statusCode === 400 && err.field === 'cursor',
    );
  }
});

test('segment slugs are URL-safe, distinct and lead back to their segment; every segment has a definition', () => {
  const slugs = SEGMENTS.map(segmentSlug);
  assert.equal(new Set(slugs).size, SEGMENTS.length);
  for (const [i, slug] of slugs.entries()) {
    assert.match(slug, /^[a-z-]+$/);
    assert.equal(segmentOfSlug(slug), SEGMENTS[i]);
  }
  assert.equal(segmentSlug("Can't lose"), 'cant-lose');
  assert.equal(segmentOfSlug('nope'), undefined);
  assert.deepEqual(
    SEGMENT_DEFINITIONS.map((d) => d.segment),
    [...SEGMENTS],
  );
  assert.deepEqual(SEGMENT_DEFINITIONS.find((d) => d.segment === 'Champions')!.recency, [5, 5]);
});

test('CSV: RFC 4180 quoting; due items as ids, titles and the soonest date', () => {
  assert.equal(csvLine(['a', 'b,c', 'say "hi"', null, 3, 'x\ny']), 'a,"b,c","say ""hi""",,3,"x\ny"\r\n');
  const json = {
    user_id: 'u1',
    segment: "Can't lose",
    revenue: 12.5,
    due_items: [
      { id: 'i2', title: 'Tea, green', due_date: '2024-01-09' },
      { id: 'i1', title: null, due_date: '2024-01-03' },
    ],
  };
  assert.equal(profileCsv(json, ['user_id', 'segment', 'revenue', 'due_items', 'due_item_titles', 'next_due_date']), `u1,Can't lose,12.5,i2;i1,"Tea, green | i1",2024-01-03\r\n`);
});
