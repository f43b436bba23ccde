import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Fader, Hardie & Lee (2005), CDNOW in weeks.
const PUBLISHED = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

const run = (script: string, ...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
const lifecycle = (...args: string[]) => run('jobs/lifecycle.ts', ...args);

describe('jobs/lifecycle.ts CLI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recs-lifecycle-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('CDNOW rebuilt from its per-customer summary: the published BG/NBD fit, the JSON, no holdout', async () => {
    const log = join(dir, 'cdnow.csv');
    assert.equal((await run('test/fixtures/lifecycle/cdnow-log.ts', log)).code, 0);
    const out = join(dir, 'cdnow.json');
    const html = join(dir, 'cdnow.html');
    const r = await lifecycle('--transactions', log, '--calibration-end', '1997-09-30', '--unit', 'week', '--out', out, '--html', html);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^BG\/NBD \(weeks\): r = 0\.2426 ± 0\.013, alpha = 4\.414 ± 0\.38, a = 0\.7929 ± 0\.19, b = 2\.426 ± 0\.71; log-likelihood -9582\.4$/m);
    assert.match(r.stdout, /^no purchases after 1997-09-30: no holdout check$/m);
    assert.match(r.stderr, /--html .* not written: no purchases after the calibration end/);

    const json = JSON.parse(await readFile(out, 'utf8'));
    const { bgnbd } = json;
    for (const [name, published] of Object.entries(PUBLISHED)) {
      assert.equal(bgnbd[name].toPrecision(3), published.toPrecision(3), `${name} = ${bgnbd[name]}, published ${published}`);
      assert.ok(bgnbd.standard_errors[name] > 0, `standard error of ${name}`);
    }
    assert.ok(Math.abs(bgnbd.log_likelihood - -9582.4) < 0.05, `log-likelihood ${bgnbd.log_likelihood}`);
    assert.equal(bgnbd.converged, true);
    // The paper's counts: 2,357 customers, 2,457 repeat purchases, 1,411 customers without any.
    assert.deepEqual(json.customers, { in_file: 2357, calibration: 2357, repeat_buyers: 2357 - 1411, new_after_calibration: 0 });
    assert.equal(json.input.purchases, 2357 + 2457);
    assert.equal(json.input.purchases_without_price, 2357);
    assert.equal(json.calibration.first_day, '1997-01-01');
    // Gamma–Gamma on the 946 repeat buyers' zbar: the published p = 6.25, q = 3.74, γ = 15.44.
    assert.ok(Math.abs(json.gamma_gamma.p - 6.25) < 0.01 && Math.abs(json.gamma_gamma.q - 3.74) < 0.01 && Math.abs(json.gamma_gamma.v - 15.44) < 0.02, JSON.stringify(json.gamma_gamma));
    const segments: Record<string, number> = json.rfm_segments;
    assert.equal(Object.keys(segments).length, 11);
    assert.equal(
      Object.values(segments).reduce((a, b) => a + b, 0),
      2357,
    );
    assert.equal(json.holdout, null);
  });

  test('a log running past the calibration end: the holdout table, JSON groups and chart; skipped and bad rows counted', async () => {
    const log = join(dir, 'shop.csv');
    await writeFile(
      log,
      [
        'user_id,item_id,type,timestamp,quantity,price',
        'a,i1,purchase,2024-01-01T10:00:00Z,1,5', // a: 2 repeat purchases by the end, 2 after
        'a,i1,purchase,2024-01-10T10:00:00Z,2,5',
        'a,i2,purchase,2024-01-20T10:00:00Z,1,8',
        'a,i1,purchase,2024-02-05T10:00:00Z,1,5',
        'a,i1,purchase,2024-02-15T10:00:00Z,1,5',
        'b,i1,purchase,2024-01-05T09:00:00Z,1,5', // b: twice on one day is one order (x = 0), 1 after
        'b,i2,purchase,2024-01-05T18:00:00Z,1,8',
        'b,i1,purchase,2024-02-10T10:00:00Z,1,5',
        'c,i3,purchase,2024-01-02T10:00:00Z,1,20', // c: once, nothing after
        'd,i1,purchase,2024-01-03T10:00:00Z,1,5', // d: 1 repeat purchase, 1 after
        'd,i1,purchase,2024-01-25T10:00:00Z,1,5',
        'd,i1,purchase,2024-02-20T10:00:00Z,1,5',
        'e,i1,purchase,2024-02-03T10:00:00Z,1,5', // e: first buys after the end
        'c,i1,view,2024-01-08T10:00:00Z,,',
        'c,i3,purchase,2024-01-09T10:00:00Z,-1,20',
        'c,i3,purchase,yesterday,1,20',
      ].join('\n'),
    );
    const out = join(dir, 'shop.json');
    const html = join(dir, 'shop.html');
    const r = await lifecycle('--transactions', log, '--calibration-end', '2024-01-31', '--unit', 'day', '--out', out, '--html', html);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Holdout 2024-02-01 \.\. 2024-02-20 \(20\.00 days\), customers of the calibration period:$/m);
    assert.match(
      r.stdout,
      /^\| repeat purchases in calibration \| customers \| actual per customer in holdout \| predicted \|\n\| --- \| ---: \| ---: \| ---: \|\n\| 0 \| 2 \| 0\.500 \| \d+\.\d{3} \|\n\| 1 \| 1 \| 1\.000 \| \d+\.\d{3} \|\n\| 2 \| 1 \| 2\.000 \| \d+\.\d{3} \|\n\| all \| 4 \| 1\.000 \(total 4\) \| \d+\.\d{3} \(total \d+\) \|$/m,
    );

    const json = JSON.parse(await readFile(out, 'utf8'));
    assert.deepEqual(json.customers, { in_file: 5, calibration: 4, repeat_buyers: 2, new_after_calibration: 1 });
    assert.equal(json.holdout.from, '2024-02-01');
    assert.equal(json.holdout.to, '2024-02-20');
    assert.equal(json.holdout.length, 20);
    assert.deepEqual(
      json.holdout.groups.map((g: { label: string; customers: number; actual: number }) => [g.label, g.customers, g.actual]),
      [
        ['0', 2, 0.5],
        ['1', 1, 1],
        ['2', 1, 2],
      ],
    );
    assert.ok(json.holdout.groups.every((g: { predicted: number }) => Number.isFinite(g.predicted) && g.predicted >= 0));
    assert.deepEqual(json.holdout.total.actual, 4);
    for (const key of ['r', 'alpha', 'a', 'b', 'log_likelihood', 'standard_errors']) assert.ok(key in json.bgnbd, key);
    assert.equal(
      Object.values(json.rfm_segments as Record<string, number>).reduce((a, b) => a + b, 0),
      4,
    );
    assert.deepEqual(json.input.skipped, { 'view event': 1, 'quantity ≤ 0 or negative price (a return?)': 1 });
    assert.equal(json.input.rejected, 1);
    assert.match(json.input.first_rejected[0], /^shop\.csv line 17: /);

    const page = await readFile(html, 'utf8');
    assert.match(page, /<svg[\s\S]*<\/svg>/);
    assert.match(page, /Holdout check: shop\.csv/);
  });

  test('bad input: exit code 1 and a one-line message', async () => {
    const args = ['--calibration-end', '2024-01-31', '--unit', 'week', '--out', join(dir, 'bad.json')];
    const cases: [string[], RegExp][] = [
      [args, /^error: missing --transactions FILE or --dataset NAME \(npm run lifecycle -- --help for the usage\)$/],
      [['--transactions', 'x.csv', '--unit', 'week'], /^error: missing --calibration-end, --out /],
      [['--transactions', 'x.csv', ...args.slice(0, 1), '2024-02-30', ...args.slice(2)], /^error: --calibration-end must be a date YYYY-MM-DD, got "2024-02-30"$/],
      [['--transactions', 'x.csv', ...args.slice(0, 3), 'month', ...args.slice(4)], /^error: --unit must be day or week, got "month"$/],
      [['--dataset', 'movielens', ...args], /^error: --dataset must be one of rees46, uci, completejourney, got "movielens"$/],
      [['--transactions', join(dir, 'none.csv'), ...args], /^error: cannot read .*none\.csv: no such file or not readable$/],
    ];
    const results = await Promise.all(cases.map(([a]) => lifecycle(...a)));
    results.forEach((r, i) => {
      assert.equal(r.code, 1, `${cases[i][0].join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trimEnd(), cases[i][1]);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    });
    const help = await lifecycle('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: npm run lifecycle -- \(--transactions FILE \| --dataset /);
  });
});
