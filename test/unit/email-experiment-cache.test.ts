// src/experiments/cache.ts: the experiment definitions the A/B harness and the email blocks serve from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExperimentCache } from '../../src/experiments/cache.ts';
import type { Experiment } from '../../src/experiments/definition.ts';

const experiment = (id: string, status: Experiment['status'] = 'running'): Experiment => ({
  id,
  name: null,
  salt: id,
  hashVersion: 2,
  coverage: 1,
  status,
  createdAt: new Date(0),
  startedAt: null,
  stoppedAt: null,
  variants: [
    { key: 'a', weight: 1, strategy: 'popular', params: {}, control: true },
    { key: 'b', weight: 1, strategy: 'collaborative', params: {}, control: false },
  ],
});

describe('experiment definition cache', () => {
  test('one read per experiment per interval, shared by concurrent callers', async () => {
    let reads = 0;
    const cache = new ExperimentCache(async (_tenant, id) => {
      reads++;
      return experiment(id);
    }, 60_000);
    const [a, b] = await Promise.all([cache.get('default', 'e1'), cache.get('default', 'e1')]);
    assert.equal(a, b);
    await cache.get('default', 'e1');
    assert.equal(reads, 1);
    await cache.get('default', 'e2');
    assert.equal(reads, 2);
  });

  test('re-read after the interval: a stop takes effect', async () => {
    let status: Experiment['status'] = 'running';
    const cache = new ExperimentCache(async (_tenant, id) => experiment(id, status), 0);
    assert.equal((await cache.assign('default', 'e1', 'u1')).assignment.inExperiment, true);
    status = 'stopped';
    const { assignment } = await cache.assign('default', 'e1', 'u1');
    assert.deepEqual([assignment.inExperiment, assignment.variant.key], [false, 'a']);
  });

  test('a missing experiment is remembered too, and is a 404 for assign()', async () => {
    let reads = 0;
    const cache = new ExperimentCache(async () => {
      reads++;
      return null;
    }, 60_000);
    assert.equal(await cache.get('default', 'nope'), null);
    await assert.rejects(cache.assign('default', 'nope', 'u1'), (err: { statusCode?: number }) => err.statusCode === 404);
    assert.equal(reads, 1);
  });

  test('a failed re-read serves the last definition; a first read that fails, fails', async () => {
    let fail = false;
    const cache = new ExperimentCache(async (_tenant, id) => {
      if (fail) throw new Error('database down');
      return experiment(id);
    }, 0);
    await cache.get('default', 'e1');
    fail = true;
    assert.equal((await cache.get('default', 'e1'))?.id, 'e1');
    await assert.rejects(cache.get('default', 'e2'), /database down/);
    fail = false;
    assert.equal((await cache.get('default', 'e2'))?.id, 'e2', 'and is tried again later');
  });
});
