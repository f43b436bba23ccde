// CLI: apply pending database migrations. Usage: npm run migrate
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/store/pg/migrate.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { runCli } from './lib/cli.ts';

await runCli(async () => {
  const pool = createPool(loadConfig().databaseUrl, 1);
  try {
    const { applied, alreadyApplied } = await migrate(pool);
    console.log(`migrations: ${applied.length} applied${applied.length ? ` (${applied.join(', ')})` : ''}, ${alreadyApplied.length} already in place`);
  } finally {
    await pool.end();
  }
});
