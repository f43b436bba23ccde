// The import's memory does not grow with the file: nothing is kept per row (repeated rows are
// counted by PostgreSQL). Measured as the heap after a full GC, early in the file and near its end;
// a set of every row's hash, as the import once kept, grows by tens of bytes a row, megabytes
// here (and broke at 16.7M rows: "Set maximum size exceeded"). That limit itself is passed by
// `npm run bench:build -- --big 20000000,50000000`, too slow for a test.
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { importSource } from '../../jobs/lib/loader.ts';
import { openSource, type SourceRow } from '../../jobs/lib/sources.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMiB = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const LINES = 600_000;
const EARLY = 100_000;

let s: TestServices;
let dir: string;
before(async () => {
  s = await startTestServices();
  dir = await mkdtemp(join(tmpdir(), 'recs-import-memory-'));
});
after(async () => {
  await rm(dir, { recursive: true });
  await s.close();
});

test(`importing ${LINES.toLocaleString('en-US')} distinct lines keeps the heap flat, and repeats are still counted`, async () => {
  const path = join(dir, 'events.csv');
  const out = createWriteStream(path);
  out.write('user_id,item_id,type,timestamp\n');
  for (let i = 0; i < LINES; i++) {
    // Every 1000th line repeats the line before it.
    const n = i % 1000 === 999 ? i - 1 : i;
    if (!out.write(`u${n},i${n % 5000},view,${1_700_000_000 + n}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));

  const source = await openSource('generic-events', path, 'flat');
  const rows = source.rows;
  let early = 0;
  let late = 0;
  source.rows = (async function* (): AsyncIterable<SourceRow> {
    let n = 0;
    for await (const row of rows) {
      // Both while the file is being read: its reader (and whatever it keeps) is still alive.
      if (++n === EARLY) early = heapMiB();
      if (n === LINES - 1) late = heapMiB();
      yield row;
    }
  })();
  const summary = await importSource(s.pool, source, { quiet: true });
  assert.equal(summary.eventsNew, LINES);
  assert.equal(summary.duplicateRows, LINES / 1000);
  const growth = late - early;
  assert.ok(growth < 4, `the heap grew by ${growth.toFixed(1)} MiB over ${(LINES - EARLY).toLocaleString('en-US')} lines`);
});
