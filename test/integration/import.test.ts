import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { importSource } from '../../jobs/lib/loader.ts';
import { openSource } from '../../jobs/lib/sources.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;

describe('import job (real PostgreSQL)', () => {
  let s: TestServices;
  before(async () => {
    s = await startTestServices();
  });
  after(async () => {
    await s.close();
  });

  test('loads good rows, reports every bad row with its line number, and re-import adds nothing', async () => {
    const products = await importSource(s.pool, await openSource('generic-products', fixture('generic-products.csv'), 'shop-products'), { quiet: true });
    assert.equal(products.productsUpserted, 3);
    assert.deepEqual(products.rejectedSample, [{ line: 5, reason: 'price "not-a-price" is not a number' }]);

    const first = await importSource(s.pool, await openSource('generic-events', fixture('generic-events-bad.csv'), 'shop'), { quiet: true });
    assert.equal(first.rowsRead, 12);
    assert.equal(first.eventsNew, 6);
    assert.equal(first.rejected, 6);
    assert.deepEqual(
      first.rejectedSample.map((r) => r.line),
      [5, 6, 7, 8, 11, 12],
    );
    assert.match(first.rejectedSample[0].reason, /item_id is empty/);
    assert.match(first.rejectedSample[1].reason, /teleport/);
    assert.match(first.rejectedSample[2].reason, /not a timestamp/);
    assert.match(first.rejectedSample[3].reason, /expected 4 fields, found 3/);

    const { rows } = await s.pool.query(`SELECT user_id, item_id, type, weight, occurred_at FROM events ORDER BY idempotency_key`);
    assert.equal(rows.length, 6);
    const byItem = new Map(rows.map((r) => [r.item_id, r]));
    assert.equal(byItem.get('i5, "special"')?.type, 'cart', 'quoted field with comma and quote round-trips');
    assert.equal(byItem.get('i4')?.weight, 4.5, 'numeric 4th column is stored as a weight');
    assert.equal(byItem.get('i2')?.occurred_at.toISOString(), '2024-01-01T10:00:00.000Z', 'unix seconds parsed');

    const again = await importSource(s.pool, await openSource('generic-events', fixture('generic-events-bad.csv'), 'shop'), { quiet: true });
    assert.equal(again.eventsNew, 0);
    assert.equal(again.rejected, 6, 'bad rows are reported again, not silently dropped');
    const count = await s.pool.query('SELECT count(*)::int AS n FROM events');
    assert.equal(count.rows[0].n, 6);
    const runs = await s.pool.query('SELECT rows_rejected FROM import_runs ORDER BY id');
    assert.deepEqual(
      runs.rows.map((r) => r.rows_rejected),
      [1, 6, 6],
    );
  });

  test('product re-import with a missing field keeps the value another source gave', async () => {
    const update = await importSource(s.pool, await openSource('generic-products', fixture('generic-products-update.csv'), 'titles'), { quiet: true });
    assert.equal(update.productsUpserted, 1);
    const p = await s.pool.query(`SELECT title, brand, price, in_stock FROM products WHERE id IN ('i1', 'i3') ORDER BY id`);
    assert.deepEqual(p.rows, [
      { title: 'Red Shoe (2024)', brand: 'Acme', price: 49.9, in_stock: true },
      { title: 'Green Hat', brand: 'Hatco', price: 19.5, in_stock: false },
    ]);
  });
});
