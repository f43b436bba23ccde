import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InFlight } from '../../jobs/lib/in-flight.ts';

const later = (ms: number, fail = false) => new Promise<void>((resolve, reject) => setTimeout(() => (fail ? reject(new Error('write failed')) : resolve()), ms));

test('InFlight keeps at most `depth` writes running and waits for all', async () => {
  let running = 0;
  let most = 0;
  const write = async () => {
    most = Math.max(most, ++running);
    await later(5);
    running--;
  };
  const writes = new InFlight(3);
  for (let i = 0; i < 10; i++) await writes.add(write());
  await writes.drain();
  assert.equal(running, 0);
  assert.equal(most, 3);
});

test('InFlight surfaces a failed write, even one that failed while not awaited', async () => {
  const writes = new InFlight(3);
  await writes.add(later(1, true));
  await later(10); // it fails here, with no one waiting on it: no unhandled rejection
  await assert.rejects(writes.drain(), /write failed/);
  const racing = new InFlight(1);
  await assert.rejects(racing.add(later(1, true)), /write failed/);
});
