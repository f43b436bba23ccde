import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ExposureWriter, type InsertExposures, type NewExposure } from '../../src/experiments/exposure-writer.ts';
import { insertExperiment, insertExposures } from '../../src/store/pg/experiments.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

describe('ExposureWriter (real PostgreSQL)', () => {
  let s: TestServices;
  let inserts: number;
  // Counts the INSERTs the writer sends, and can be told to fail the next one.
  let failNext = false;
  const db: InsertExposures = (rows) => {
    inserts++;
    if (failNext) {
      failNext = false;
      return Promise.reject(new Error('connection lost'));
    }
    return insertExposures(s.pool, rows);
  };
  const exposure = (i: number, extra: Partial<NewExposure> = {}): NewExposure => ({
    tenant: 'default',
    experimentId: 'exp',
    variant: i % 2 ? 'cf' : 'rv',
    userId: `user-${i}`,
    requestId: `req-${i}`,
    strategy: i % 2 ? 'collaborative' : 'recently-viewed',
    items: ['a', `item-${i}`],
    ...extra,
  });
  const stored = async () => (await s.pool.query('SELECT count(*)::int AS n FROM exposures')).rows[0].n as number;
  const noTimer = { flushIntervalMs: 3_600_000 };

  before(async () => {
    s = await startTestServices();
    await insertExperiment(s.pool, 'default', { id: 'exp', name: null, salt: 'exp', coverage: 1, variants: [] });
  });
  beforeEach(async () => {
    inserts = 0;
    await s.pool.query('TRUNCATE exposures');
  });
  after(async () => {
    await s.close();
  });

  test('many exposures, few INSERTs: one multi-row INSERT per batch; close() writes the rest', async () => {
    const writer = new ExposureWriter(db, { ...noTimer, batchRows: 1000 });
    const started = performance.now();
    for (let i = 0; i < 2500; i++) writer.record(exposure(i));
    assert.ok(performance.now() - started < 500, 'record() only buffers');
    await writer.close();
    assert.equal(inserts, 3, '1000 + 1000 + 500');
    assert.equal(await stored(), 2500);
    assert.deepEqual(writer.stats, { buffered: 0, written: 2500, duplicates: 0, dropped: 0, inserts: 3 });
    const { rows } = await s.pool.query(`SELECT experiment_id, variant, user_id, request_id, strategy, items FROM exposures WHERE request_id = 'req-7'`);
    assert.deepEqual(rows, [{ experiment_id: 'exp', variant: 'cf', user_id: 'user-7', request_id: 'req-7', strategy: 'collaborative', items: ['a', 'item-7'] }]);
  });

  test('the timer flushes without anyone asking', async () => {
    const writer = new ExposureWriter(db, { flushIntervalMs: 20 });
    writer.record(exposure(1, { exposedAt: new Date('2026-03-01T10:00:00Z') }));
    for (let i = 0; i < 100 && (await stored()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await stored(), 1);
    const { rows } = await s.pool.query('SELECT exposed_at FROM exposures');
    assert.deepEqual(rows[0].exposed_at, new Date('2026-03-01T10:00:00Z'));
    await writer.close();
  });

  test('the same request is counted once: in one buffer, across batches and across writers (replicas)', async () => {
    const a = new ExposureWriter(db, noTimer);
    const b = new ExposureWriter(db, noTimer);
    // An email provider fetching the HTML, text and AMP parts of one message: three requests, one request_id.
    a.record(exposure(1));
    a.record(exposure(1));
    a.record(exposure(1, { items: ['other'] }));
    await a.flush();
    a.record(exposure(1));
    b.record(exposure(1));
    b.record(exposure(2));
    await Promise.all([a.close(), b.close()]);
    assert.equal(await stored(), 2);
    assert.equal(a.stats.written + b.stats.written, 2);
    assert.equal(a.stats.duplicates + b.stats.duplicates, 4);
    const { rows } = await s.pool.query(`SELECT items FROM exposures WHERE request_id = 'req-1'`);
    assert.deepEqual(rows, [{ items: ['a', 'item-1'] }], 'the first fetch is the one kept');
  });

  test('bounded buffer: past the cap, exposures are dropped and counted, never queued without end', async () => {
    const writer = new ExposureWriter(db, { ...noTimer, batchRows: 1000, maxBufferedRows: 10 });
    for (let i = 0; i < 15; i++) writer.record(exposure(i));
    assert.deepEqual(writer.stats, { buffered: 10, written: 0, duplicates: 0, dropped: 5, inserts: 0 });
    await writer.close();
    assert.equal(await stored(), 10);
  });

  test('a failed write keeps its rows for the next flush and reports the error; nothing is lost', async () => {
    const errors: [string, number][] = [];
    const writer = new ExposureWriter(db, { ...noTimer, onError: (err, rows) => errors.push([err.message, rows]) });
    for (let i = 0; i < 5; i++) writer.record(exposure(i));
    failNext = true;
    await writer.flush();
    assert.deepEqual(errors, [['connection lost', 5]]);
    assert.equal(writer.stats.buffered, 5);
    writer.record(exposure(5));
    await writer.close();
    assert.equal(await stored(), 6);
    assert.equal(writer.stats.dropped, 0);
  });

  test('close() with the database gone: what cannot be written is reported as dropped', async () => {
    const errors: number[] = [];
    const writer = new ExposureWriter(db, { ...noTimer, onError: (_err, rows) => errors.push(rows) });
    writer.record(exposure(1));
    writer.record(exposure(2));
    failNext = true;
    await writer.close();
    assert.deepEqual(errors, [2, 2]);
    assert.deepEqual(writer.stats, { buffered: 0, written: 0, duplicates: 0, dropped: 2, inserts: 0 });
  });
});
