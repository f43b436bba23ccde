import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('jobs/experiment.ts CLI (real PostgreSQL)', () => {
  let s: TestServices;
  let dir: string;
  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'jobs/experiment.ts', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: s.databaseUrl } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });

  before(async () => {
    s = await startTestServices();
    dir = await mkdtemp(join(tmpdir(), 'recs-exp-'));
  });
  after(async () => {
    await s.close();
  });

  test('create, start, list, show, report (text, json, html), stop', async () => {
    const file = join(dir, 'email.json');
    await writeFile(
      file,
      JSON.stringify({
        id: 'email-cli',
        name: 'Email block',
        variants: [
          { key: 'rv', strategy: 'recently-viewed', control: true, weight: 0.5, params: { limit: 6 } },
          { key: 'cf', strategy: 'collaborative', weight: 0.5, params: { limit: 6 } },
        ],
        hash_version: 1,
      }),
    );
    const created = await run('create', file);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /email-cli \(Email block\): draft, coverage 100%, salt "email-cli", hash version 1/);
    assert.match((await run('start', 'email-cli')).stdout, /email-cli \(Email block\): running/);
    assert.match((await run('list')).stdout, /\* rv\s+recently-viewed\s+weight 0\.5\s+\{"limit":6\}/);
    assert.match((await run('show', 'email-cli')).stdout, /started \d{1,2} [A-Z][a-z]{2} 20\d\d, \d\d:\d\d UTC, stopped –/);
    await s.pool.query(`INSERT INTO products (tenant_id, id, currency) VALUES ('default', 'a', 'GBP')`);
    await s.pool.query(`INSERT INTO exposures (tenant_id, experiment_id, variant, user_id, request_id, strategy, items)
      VALUES ('default', 'email-cli', 'rv', 'u1', 'r1', 'recently-viewed', '{a}'), ('default', 'email-cli', 'cf', 'u2', 'r2', 'collaborative', '{b}'),
             ('default', 'email-cli', 'rv', 'u3', 'r3', 'recently-viewed', '{a}'), ('default', 'email-cli', 'cf', 'u4', 'r4', 'collaborative', '{b}')`);
    await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, quantity, price, occurred_at, request_id) VALUES ('default', 'u1', 'a', 'purchase', 2, 7.5, now(), 'r1')`);
    const text = await run('report', 'email-cli');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^started \d{1,2} [A-Z][a-z]{2} 20\d\d, \d\d:\d\d UTC, stopped –; generated /m);
    assert.match(text.stdout, /^rv\*\s+recently-viewed\s+2\s+2\s+0\s+2\s+0\.00% \[0\.00%, 65\.76%\]\s+50\.00% \[9\.45%, 90\.55%\]\s+–$/m);
    // Too few converters for a lift: the cell points to a note saying so, never "−∞ to +∞".
    assert.match(text.stdout, /^cf\s+collaborative\s+2\s+2\s+0\s+2\s+.*– \(1\)$/m);
    assert.match(text.stdout, /^revenue in GBP\nvariant\s+buyers\s+revenue\s+RPV \[95% CI\]\s+RPV lift \[95% CI\]\nrv\*\s+1\s+15\.00\s+7\.50 \(2\)/m);
    assert.match(text.stdout, /^\(1\) cf, conversion lift: not estimable: too few converters \(treatment 0, control 1; 5 needed on each side\)$/m);
    assert.match(text.stdout, /^\(2\) rv, RPV: no interval: only 1 buyer in GBP, 5 needed$/m);
    assert.match(text.stdout, /^\(4\) cf, RPV lift in GBP: not estimable: too few buyers in GBP \(treatment 0, control 1; 5 needed on each side\)$/m);
    assert.ok(!text.stdout.includes('∞'));
    assert.match(text.stdout, /sample ratio check: ok \(p = 1\.0000\)/);
    const json = JSON.parse((await run('report', 'email-cli', '--format', 'json')).stdout);
    assert.deepEqual(
      json.variants.map((v: { visitors: number }) => v.visitors),
      [2, 2],
    );
    assert.deepEqual(
      json.variants[0].revenue.map((r: { currency: string; revenue: number }) => [r.currency, r.revenue]),
      [['GBP', 15]],
    );
    const out = join(dir, 'report.html');
    assert.equal((await run('report', 'email-cli', '--format', 'html', '--out', out)).code, 0);
    assert.match(await readFile(out, 'utf8'), /<h1>Email block<\/h1>/);
    assert.match((await run('stop', 'email-cli')).stdout, /: stopped/);
  });

  test("errors say what is wrong and exit non-zero: the API's own validation and status rules", async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        id: 'bad',
        variants: [
          { key: 'a', strategy: 'popular' },
          { key: 'b', strategy: 'popular' },
        ],
      }),
    );
    const bad = await run('create', file);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error: 400 invalid_request: exactly one variant must have control: true \(found 0\) \(field variants\)/);
    await writeFile(
      file,
      JSON.stringify({
        id: 'bad',
        variants: [
          { key: 'a', strategy: 'popular', control: true, weight: 1 },
          { key: 'b', strategy: 'popular', weight: 2 },
        ],
      }),
    );
    assert.match((await run('create', file)).stderr, /error: 400 invalid_request: variant weights must sum to 1 .* \(field variants\)/);
    const stopped = await run('start', 'email-cli');
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /409 invalid_transition: cannot start an experiment that is stopped/);
    assert.match((await run('show', 'nope')).stderr, /404 not_found/);
    assert.equal((await run('frobnicate', 'x')).code, 1);
  });
});
