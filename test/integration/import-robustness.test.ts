// The import survives what real exports contain: stray quotes, wrong field counts, binary junk,
// control characters, Latin-1 text and repeated rows. Each bad line is reported with its number,
// good lines around it still load, and repeats are loaded and counted.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { importSource } from '../../jobs/lib/loader.ts';
import { openSource } from '../../jobs/lib/sources.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const fixture = (name: string) => new URL(`../fixtures/robustness/${name}`, import.meta.url).pathname;

describe('import of malformed files (real PostgreSQL)', () => {
  let s: TestServices;
  const events = async (where = 'true') => (await s.pool.query(`SELECT user_id, item_id FROM events WHERE ${where} ORDER BY idempotency_key`)).rows;

  before(async () => {
    s = await startTestServices();
  });
  after(async () => {
    await s.close();
  });

  test('bad lines are rejected one by one with their numbers; the lines a stray quote swallowed still load', async () => {
    const summary = await importSource(s.pool, await openSource('generic-events', fixture('malformed-events.csv'), 'junk'), { quiet: true });
    assert.deepEqual(
      summary.rejectedSample.map((r) => [r.line, r.reason]),
      [
        [3, 'unreadable CSV: a quote that never closes (a stray quote?)'],
        [7, 'expected 4 fields, found 3'],
        [8, 'expected 4 fields, found 5'],
        [10, 'binary data (a NUL byte)'],
        [11, 'not valid UTF-8 (a Latin-1 file? import it with --encoding latin1)'],
        [16, 'unreadable CSV: a quote that never closes (a stray quote?)'],
        [19, 'item_id contains a control character'],
      ],
    );
    assert.deepEqual([summary.rowsRead, summary.eventsNew, summary.rejected], [18, 11, 7]);
    assert.deepEqual(summary.invalidUtf8, { lines: 1, sample: [11] });
    // Lines 12, 13 and 15 are the same order line: all three stay events (as UCI's repeats do).
    assert.equal(summary.duplicateRows, 2);
    assert.equal((await events(`user_id = 'u5' AND item_id = 'i7'`)).length, 3);
    assert.deepEqual((await events(`user_id IN ('u2', 'u3', 'u7')`)).map((e) => e.item_id).sort(), ['i1', 'i1', 'i2', 'i3', 'i4, "deluxe"']);
    const runs = await s.pool.query('SELECT rows_read, events_new, rows_rejected FROM import_runs');
    assert.deepEqual(runs.rows, [{ rows_read: 18, events_new: 11, rows_rejected: 7 }]);

    const again = await importSource(s.pool, await openSource('generic-events', fixture('malformed-events.csv'), 'junk'), { quiet: true });
    assert.deepEqual([again.eventsNew, again.rejected, again.duplicateRows], [0, 7, 2], 're-import adds nothing and reports the same');
  });

  test('a Latin-1 file: read as UTF-8 its accented lines are rejected and named; read as Latin-1 they load exactly', async () => {
    const asUtf8 = await importSource(s.pool, await openSource('generic-events', fixture('latin1-events.csv'), 'latin'), { quiet: true });
    assert.deepEqual([asUtf8.eventsNew, asUtf8.rejected, asUtf8.invalidUtf8], [1, 2, { lines: 2, sample: [2, 4] }]);
    const asLatin1 = await importSource(s.pool, await openSource('generic-events', fixture('latin1-events.csv'), 'latin', 'latin1'), { quiet: true });
    assert.deepEqual([asLatin1.eventsNew, asLatin1.rejected, asLatin1.invalidUtf8.lines], [2, 0, 0], 'the same lines, now readable (line 3 is already in)');
    assert.deepEqual(await events(`idempotency_key LIKE 'latin:%'`), [
      { user_id: 'müller', item_id: 'café-1' },
      { user_id: 'ana', item_id: 'plain' },
      { user_id: 'josé', item_id: 'crème' },
    ]);
  });

  test('the CLI summary names invalid UTF-8 lines, suggests --encoding latin1, and counts repeated rows', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'jobs/import.ts', '--events', fixture('malformed-events.csv'), '--name', 'cli'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: s.databaseUrl },
    });
    assert.match(stdout, /1 lines are not valid UTF-8 and were rejected \(lines 11\): if the file is Latin-1, import it again with --encoding latin1/);
    assert.match(stdout, /2 rows repeat an earlier row exactly \(loaded: each line is an event of its own\)/);
    assert.match(stdout, /rejected line 3: unreadable CSV: a quote that never closes/);
  });
});
