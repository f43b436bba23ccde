import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { bucketOf } from '../../src/experiments/hash.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const definition = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: 'Email block: recently viewed vs same brand vs collaborative',
  variants: [
    { key: 'rv', strategy: 'recently-viewed', control: true, params: { limit: 6 } },
    { key: 'brand', strategy: 'same-brand', params: { limit: 6, brand_cap: 2 } },
    { key: 'cf', strategy: 'collaborative', params: { limit: 6, exclude_purchased: true } },
  ],
  ...extra,
});

describe('/v1/experiments (real PostgreSQL)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  const post = (url: string, body?: object) => app.inject({ method: 'POST', url, ...(body ? { payload: body } : {}) });
  const get = (url: string) => app.inject({ method: 'GET', url });

  before(async () => {
    s = await startTestServices();
    app = await buildApp(s.config, s, { logger: false });
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('create: a draft with defaults filled in (equal weights, params {}, salt = id, hash version 2, coverage 1)', async () => {
    const res = await post('/v1/experiments', definition('email-1'));
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.equal(body.status, 'draft');
    assert.equal(body.salt, 'email-1');
    assert.equal(body.hash_version, 2);
    assert.equal(body.coverage, 1);
    assert.equal(body.started_at, null);
    assert.deepEqual(
      body.variants.map((v: { key: string; weight: number; control: boolean }) => [v.key, v.weight, v.control]),
      [
        ['rv', 1 / 3, true],
        ['brand', 1 / 3, false],
        ['cf', 1 / 3, false],
      ],
    );
    assert.deepEqual(body.variants[2].params, { limit: 6, exclude_purchased: true });
    assert.deepEqual((await get('/v1/experiments/email-1')).json(), body);
  });

  test('create: an id already taken is a 409', async () => {
    const res = await post('/v1/experiments', definition('email-1'));
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().field, 'id');
  });

  const variants = definition('x').variants;
  const bad: [string, object, string][] = [
    ['unknown strategy', { variants: [variants[0], { key: 'b', strategy: 'telepathy' }] }, 'variants[1].strategy'],
    ['duplicate variant keys', { variants: [variants[0], { key: 'rv', strategy: 'popular' }] }, 'variants[1].key'],
    ['no control', { variants: [variants[1], variants[2]] }, 'variants'],
    ['two controls', { variants: [variants[0], { ...variants[1], control: true }] }, 'variants[1].control'],
    [
      'weights summing to 0',
      {
        variants: [
          { ...variants[0], weight: 0 },
          { ...variants[1], weight: 0 },
        ],
      },
      'variants',
    ],
    [
      'weights of another scale (1:1:2)',
      {
        variants: [
          { ...variants[0], weight: 1 },
          { ...variants[1], weight: 1 },
          { ...variants[2], weight: 2 },
        ],
      },
      'variants',
    ],
    [
      'weights summing to 1.02',
      {
        variants: [
          { ...variants[0], weight: 0.52 },
          { ...variants[1], weight: 0.5 },
        ],
      },
      'variants',
    ],
    ['weights on some variants only', { variants: [{ ...variants[0], weight: 0.5 }, variants[1], variants[2]] }, 'variants'],
    ['hash version 3', { hash_version: 3 }, 'hash_version'],
    ['a negative weight', { variants: [variants[0], { ...variants[1], weight: -1 }] }, 'variants[1].weight'],
    ['a single variant', { variants: [variants[0]] }, 'variants'],
    ['a limit out of range', { variants: [variants[0], { ...variants[1], params: { limit: 500 } }] }, 'variants[1].params.limit'],
    ['an unknown parameter', { variants: [variants[0], { ...variants[1], params: { colour: 'red' } }] }, 'variants[1].params.colour'],
    ['coverage 0', { coverage: 0 }, 'coverage'],
    ['a bad id', { id: 'has space' }, 'id'],
  ];
  for (const [name, patch, field] of bad) {
    test(`create: ${name} → 400 naming ${field}, nothing stored`, async () => {
      const res = await post('/v1/experiments', { ...definition('bad-one'), ...patch });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error, 'invalid_request');
      assert.equal(res.json().field, field);
      assert.equal((await get('/v1/experiments/bad-one')).statusCode, 404);
    });
  }

  test('create: the weights message says they must sum to 1', async () => {
    const res = await post('/v1/experiments', {
      ...definition('bad-one'),
      variants: [
        { ...variants[0], weight: 1 },
        { ...variants[1], weight: 3 },
      ],
    });
    assert.deepEqual(res.json(), {
      error: 'invalid_request',
      field: 'variants',
      message: "variant weights must sum to 1 (within 0.01, as GrowthBook's SDKs require), e.g. 0.25, 0.25, 0.5 rather than 1, 1, 2; these sum to 4",
    });
  });

  test('list: newest first', async () => {
    await post('/v1/experiments', definition('email-2'));
    const ids = (await get('/v1/experiments')).json().experiments.map((e: { id: string }) => e.id);
    assert.deepEqual(ids.slice(0, 2), ['email-2', 'email-1']);
  });

  test('unknown experiment: 404 on every route', async () => {
    for (const url of ['/v1/experiments/nope', '/v1/experiments/nope/assignment?user=u', '/v1/experiments/nope/report', '/v1/experiments/nope/report.html']) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error, 'not_found');
    }
    assert.equal((await post('/v1/experiments/nope/start')).statusCode, 404);
  });

  test('lifecycle: draft → running → stopped, every other transition a 409', async () => {
    assert.equal((await post('/v1/experiments/email-1/stop')).statusCode, 409, 'a draft cannot be stopped');
    const started = await post('/v1/experiments/email-1/start');
    assert.equal(started.statusCode, 200);
    assert.equal(started.json().status, 'running');
    assert.ok(Date.parse(started.json().started_at) > 0);
    const again = await post('/v1/experiments/email-1/start');
    assert.equal(again.statusCode, 409);
    assert.deepEqual(again.json(), { error: 'invalid_transition', message: 'cannot start an experiment that is running (only a draft one)', field: 'status' });
    const stopped = await post('/v1/experiments/email-1/stop');
    assert.equal(stopped.json().status, 'stopped');
    assert.ok(Date.parse(stopped.json().stopped_at) >= Date.parse(started.json().started_at));
    assert.equal((await post('/v1/experiments/email-1/stop')).statusCode, 409);
    assert.equal((await post('/v1/experiments/email-1/start')).statusCode, 409, 'a stopped experiment stays stopped');
  });

  test('two concurrent starts: exactly one wins', async () => {
    await post('/v1/experiments', definition('race'));
    const codes = (await Promise.all([post('/v1/experiments/race/start'), post('/v1/experiments/race/start')])).map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [200, 409]);
  });

  test('assignment: the control while a draft; then the hashed variant with its strategy and params, the same every time', async () => {
    const weighted = definition('x').variants.map((v, i) => ({ ...v, weight: [0.25, 0.25, 0.5][i] }));
    await post('/v1/experiments', definition('assign-me', { salt: 'growthbook-seed', variants: weighted }));
    const draft = (await get('/v1/experiments/assign-me/assignment?user=alice')).json();
    assert.equal(draft.in_experiment, false);
    assert.equal(draft.variant.key, 'rv');
    await post('/v1/experiments/assign-me/start');
    const seen = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const user = `user-${i}`;
      const a = (await get(`/v1/experiments/assign-me/assignment?user=${user}`)).json();
      const bucket = bucketOf('growthbook-seed', user);
      assert.equal(a.bucket, bucket);
      // Weights 0.25/0.25/0.5 → ranges [0, .25), [.25, .5), [.5, 1).
      assert.equal(a.variant.key, bucket < 0.25 ? 'rv' : bucket < 0.5 ? 'brand' : 'cf');
      assert.equal(a.in_experiment, true);
      seen.set(a.variant.key, (seen.get(a.variant.key) ?? 0) + 1);
      if (a.variant.key === 'cf') assert.deepEqual([a.variant.strategy, a.variant.params], ['collaborative', { limit: 6, exclude_purchased: true }]);
    }
    assert.equal(seen.size, 3);
    const twice = await Promise.all([1, 2].map(() => get('/v1/experiments/assign-me/assignment?user=user-7')));
    assert.deepEqual(twice[0].json(), twice[1].json());
    const missing = await get('/v1/experiments/assign-me/assignment');
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().field, 'user');
  });

  test('hash version 1: stored, shown, and what assignment buckets with', async () => {
    const created = await post('/v1/experiments', definition('v1-exp', { hash_version: 1 }));
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().hash_version, 1);
    assert.equal((await get('/v1/experiments/v1-exp')).json().hash_version, 1);
    assert.equal((await get('/v1/experiments')).json().experiments.find((e: { id: string }) => e.id === 'v1-exp').hash_version, 1);
    await post('/v1/experiments/v1-exp/start');
    for (let i = 0; i < 50; i++) {
      const a = (await get(`/v1/experiments/v1-exp/assignment?user=user-${i}`)).json();
      const bucket = bucketOf('v1-exp', `user-${i}`, 1);
      assert.equal(a.bucket, bucket);
      assert.equal(a.variant.key, bucket < 1 / 3 ? 'rv' : bucket < 2 / 3 ? 'brand' : 'cf');
    }
  });

  test('report routes answer for an experiment without data yet', async () => {
    const json = await get('/v1/experiments/email-2/report');
    assert.equal(json.statusCode, 200);
    const report = json.json();
    assert.equal(report.attribution_window_days, 7);
    assert.deepEqual(report.currencies, []);
    assert.deepEqual(
      report.variants.map((v: { visitors: number; ctr: number | null; revenue: unknown[] }) => [v.visitors, v.ctr, v.revenue]),
      [
        [0, null, []],
        [0, null, []],
        [0, null, []],
      ],
    );
    assert.deepEqual(report.srm, { chi_square: 0, df: 2, p_value: 1, threshold: 0.001, mismatch: false });
    const page = await get('/v1/experiments/email-2/report.html');
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /^<!doctype html>/);
    assert.match(page.body, /<h1>Email block: recently viewed vs same brand vs collaborative<\/h1>/);
  });

  test('every route is in the OpenAPI document, with its schemas', async () => {
    const doc = app.swagger() as unknown as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    for (const path of [
      '/v1/experiments',
      '/v1/experiments/{id}',
      '/v1/experiments/{id}/start',
      '/v1/experiments/{id}/stop',
      '/v1/experiments/{id}/assignment',
      '/v1/experiments/{id}/report',
      '/v1/experiments/{id}/report.html',
    ]) {
      assert.ok(doc.paths[path], path);
    }
    assert.ok(doc.paths['/v1/experiments'].post.responses['400']);
    assert.ok(doc.paths['/v1/experiments/{id}/start'].post.responses['409']);
  });
});
