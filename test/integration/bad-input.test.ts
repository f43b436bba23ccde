// Bad input gets a clear 400 naming the field; nothing stored is touched (real PostgreSQL and Redis).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

describe('bad input: numbers, timestamps, unknown routes', () => {
  let s: TestServices;
  let app: FastifyInstance;
  const count = async () => (await s.pool.query('SELECT count(*)::int AS n FROM events')).rows[0].n as number;

  before(async () => {
    s = await startTestServices();
    await loadShop(s.pool);
    await buildShop(s);
    app = await buildApp(s.config, s, { logger: false });
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  const numbers: [param: string, value: string][] = [
    ['limit', 'Infinity'],
    ['limit', '1e400'],
    ['limit', '0x10'],
    ['limit', '%2010'],
    ['limit', '1e1'],
    ['limit', '+5'],
    ['limit', '10.0'],
    ['min_price', '1e309'],
    ['max_price', 'Infinity'],
    ['min_price', '0x10'],
    ['brand_cap', '-0x1'],
  ];
  for (const path of [
    '/v1/recommendations/popular',
    '/v1/recommendations/collaborative?user=u1',
    '/v1/recommendations/recently-viewed?user=u1',
    '/v1/email/popular.json',
    '/v1/email/collaborative.html?user=u1',
  ]) {
    test(`${path}: numbers are finite decimal digits (400 naming the parameter)`, async () => {
      for (const [param, value] of numbers) {
        const res = await app.inject(`${path}${path.includes('?') ? '&' : '?'}${param}=${value}`);
        assert.equal(res.statusCode, 400, `${param}=${value}: ${res.body.slice(0, 200)}`);
        assert.deepEqual([res.json().error, res.json().field], ['invalid_request', param], `${param}=${value}`);
      }
      const fine = await app.inject(`${path}${path.includes('?') ? '&' : '?'}limit=3&min_price=0.5&max_price=100`);
      assert.equal(fine.statusCode, 200, fine.body.slice(0, 200));
    });
  }

  test("a leap second, or a day that does not exist: 400 naming the event's field; the batch stores nothing; a retry gets the same 400", async () => {
    const before = await count();
    for (const at of ['2026-12-31T23:59:60Z', '2026-02-30T10:00:00Z', '2026-04-31T10:00:00+02:00', '2026-01-01T24:00:00Z', '1969-12-31T23:59:59Z', '2026-01-01T10:00:00+25:00']) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/events',
          payload: {
            events: [
              { user_id: 'u1', item_id: 'a1', type: 'view' },
              { user_id: 'u1', item_id: 'a2', type: 'view', occurred_at: at },
            ],
          },
        });
        assert.equal(res.statusCode, 400, `${at}: ${res.body}`);
        assert.equal(res.json().field, 'events[1].occurred_at', at);
      }
    }
    assert.equal(await count(), before);
    const ok = await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ user_id: 'u1', item_id: 'a2', type: 'view', occurred_at: '2026-12-31T23:59:59.999+01:00' }] } });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('every date-time parameter is a real instant (one Ajv format): a leap second in a query is a 400 naming it', async () => {
    for (const since of ['2026-12-31T23:59:60Z', '2026-06-30T23:59:60Z', '2026-04-31T00:00:00Z']) {
      const res = await app.inject(`/v1/segments/moves?since=${encodeURIComponent(since)}`);
      assert.deepEqual([res.statusCode, res.json().field], [400, 'since'], `${since}: ${res.body}`);
    }
    assert.equal((await app.inject('/v1/segments/moves?since=2026-12-31T23:59:59Z')).statusCode, 200);
  });

  test('an unknown route or method: 404 in the same format as every error', async () => {
    for (const [method, url] of [
      ['GET', '/v1/nothing'],
      ['PUT', '/v1/events'],
      ['GET', '/v1/recommendations/telepathy?user=x'],
    ] as const) {
      const res = await app.inject({ method, url });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(Object.keys(res.json()).sort(), ['error', 'message']);
      assert.equal(res.json().error, 'not_found');
    }
  });
});
