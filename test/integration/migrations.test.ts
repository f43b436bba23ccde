import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { migrate } from '../../src/store/pg/migrate.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

let s: TestServices;
before(async () => {
  s = await startTestServices();
});
after(async () => {
  await s.close();
});

test('migrations are recorded once and a second (and concurrent) run applies nothing', async () => {
  // startTestServices already migrated this fresh database once.
  const [a, b] = await Promise.all([migrate(s.pool), migrate(s.pool)]);
  assert.deepEqual(a.applied, []);
  assert.deepEqual(b.applied, []);
  assert.ok(a.alreadyApplied.includes('001_init.sql'));
  const { rows } = await s.pool.query('SELECT version FROM schema_migrations ORDER BY version');
  assert.deepEqual(
    rows.map((r) => r.version),
    a.alreadyApplied,
  );
  const tables = await s.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
  for (const t of ['events', 'experiments', 'exposures', 'products', 'users'])
    assert.ok(
      tables.rows.some((r) => r.table_name === t),
      t,
    );
});
