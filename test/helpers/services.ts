// Real PostgreSQL and Redis for tests: each test file gets its own fresh database and its
// own Redis key prefix, so files can run in parallel and never see each other's data.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import { createPool } from '../../src/store/pg/pool.ts';
import { createRedis, deleteMatching } from '../../src/store/redis/client.ts';

export interface TestServices {
  config: Config;
  pool: pg.Pool;
  redis: Redis;
  databaseUrl: string;
  close(): Promise<void>;
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with "npm test" (it starts PostgreSQL and Redis)`);
  return value;
}

export async function startTestServices(overrides: Partial<Config> = {}): Promise<TestServices> {
  const baseUrl = requireEnv('DATABASE_URL');
  const redisUrl = requireEnv('REDIS_URL');
  const name = `recs_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const config: Config = { ...loadConfig({ ...process.env, DATABASE_URL: databaseUrl }), redisPrefix: `test:${name}:`, ...overrides };
  const pool = createPool(databaseUrl, 5);
  await migrate(pool);
  const redis = createRedis(redisUrl);
  return {
    config, pool, redis, databaseUrl,
    async close() {
      await deleteMatching(redis, `${config.redisPrefix}*`);
      await redis.quit();
      await pool.end();
      const drop = new pg.Client({ connectionString: baseUrl });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await drop.end();
    },
  };
}

/** Every key matching `pattern` (a full SCAN: other test files share this Redis). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}
