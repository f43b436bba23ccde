import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hashApiKey } from '../../src/auth/api-key.ts';
import { KeyRing } from '../../src/auth/key-ring.ts';
import { activeApiKeys, createApiKey, listApiKeys, revokeApiKey } from '../../src/store/pg/api-keys.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('API keys in PostgreSQL: store and jobs/keys.ts CLI', () => {
  let s: TestServices;
  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'jobs/keys.ts', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: s.databaseUrl } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
  const ring = () =>
    new KeyRing(
      () => activeApiKeys(s.pool),
      0,
      () => undefined,
    );

  before(async () => {
    s = await startTestServices();
  });
  after(async () => {
    await s.close();
  });

  test('CLI: create prints the key once, list shows it without the secret, revoke ends it', async () => {
    const created = await run('create', '--name', 'shop widget', '--origin', 'https://shop.example', '--origin', 'https://m.shop.example', '--rate', '50/s');
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trim().split('\n').at(-1)!;
    assert.match(key, /^recs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const prefix = key.slice(0, 17);
    assert.match(created.stdout, /note: the only active key: servers in AUTH_MODE=auto now require a key/, 'the first key locks the API');
    assert.match(created.stdout, new RegExp(`created ${prefix}  tenant default\\s+read\\s+active\\s+rate 50/s\\s+"shop widget"  origins https://shop.example https://m.shop.example`));
    assert.equal((await ring().find(key))?.name, 'shop widget');

    const list = await run('list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${prefix}  tenant default\\s+read\\s+active`, 'm'));
    assert.ok(!list.stdout.includes(key), 'list never shows a key');

    assert.match((await run('revoke', prefix)).stdout, new RegExp(`revoked ${prefix}`));
    assert.equal(await ring().find(key), null);
    assert.match((await run('list')).stdout, new RegExp(`^${prefix}  tenant default\\s+read\\s+revoked 20`, 'm'));
  });

  test('store: create keeps only a hash; the key verifies until revoked', async () => {
    const { key, row } = await createApiKey(s.pool, { name: 'backend', scope: 'write', origins: [], rate: { limit: 5, windowSeconds: 60 } });
    const { rows } = await s.pool.query('SELECT * FROM api_keys WHERE prefix = $1', [row.prefix]);
    assert.equal(rows[0].hash, hashApiKey(key));
    assert.ok(!JSON.stringify(rows[0]).includes(key.slice(row.prefix.length + 1)), 'the secret is not stored');
    assert.deepEqual(row.rate, { limit: 5, windowSeconds: 60 });

    assert.equal((await ring().find(key))?.scope, 'write');
    assert.equal(await revokeApiKey(s.pool, row.prefix), true);
    assert.equal(await revokeApiKey(s.pool, row.prefix), false, 'already revoked');
    assert.equal(await ring().find(key), null);
    assert.ok((await listApiKeys(s.pool)).find((k) => k.prefix === row.prefix)?.revokedAt, 'listed as revoked');
  });

  test('store: origins are normalised; a browser key cannot write (code and table)', async () => {
    const { row } = await createApiKey(s.pool, { name: 'widget', scope: 'read', origins: ['https://Shop.example:443'], rate: null });
    assert.deepEqual(row.origins, ['https://shop.example']);
    await assert.rejects(createApiKey(s.pool, { name: 'w', scope: 'write', origins: ['https://shop.example'], rate: null }), /can only have scope read/);
    await assert.rejects(s.pool.query(`INSERT INTO api_keys (prefix, hash, name, tenants, scope, origins) VALUES ('p', 'h', 'n', '{default}', 'write', '{https://a.example}')`), /check constraint/);
  });

  test('CLI: errors say what is wrong and exit non-zero', async () => {
    const cases: [string[], RegExp][] = [
      [['create'], /create needs --name/],
      [['create', '--name', 'x', '--scope', 'admin'], /--scope must be one of read, write/],
      [['create', '--name', 'x', '--rate', '10/day'], /bad rate "10\/day"/],
      [['create', '--name', 'x', '--scope', 'write', '--origin', 'https://a.example'], /can only have scope read/],
      [['create', '--name', 'x', '--origin', 'shop.example'], /not an origin/],
      [['revoke', 'recs_000000000000'], /no active key "recs_000000000000"/],
      [['rotate'], /unknown command "rotate"/],
    ];
    for (const [args, message] of cases) {
      const result = await run(...args);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, message);
    }
  });
});
