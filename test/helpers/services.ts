// Real PostgreSQL and Redis for tests: each test file gets its own fresh database and its
// own Redis key prefix, so files can run in parallel and never see each other's data. Redis is
// the single one of REDIS_URL, or the Redis Cluster of REDIS_CLUSTER_NODES when that is set (as
// `npm run test:cluster` does) or one given ({ cluster: seeds }, test/helpers/cluster.ts).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, parseClusterNodes, type Config } from '../../src/config.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import { createPool } from '../../src/store/pg/pool.ts';
import { createJobsRedis, deleteMatching, scanEach, type RedisClient } from '../../src/store/redis/client.ts';

export interface TestServices {
  config: Config;
  pool: pg.Pool;
  redis: RedisClient;
  databaseUrl: string;
  close(): Promise<void>;
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with "npm test" (it starts PostgreSQL and Redis)`);
  return value;
}

/** `cluster`: the seeds of a Redis Cluster to use. */
export async function startTestServices(overrides: Partial<Config> = {}, options: { cluster?: string } = {}): Promise<TestServices> {
  const baseUrl = requireEnv('DATABASE_URL');
  requireEnv('REDIS_URL');
  const name = `recs_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const loaded = loadConfig({ ...process.env, DATABASE_URL: databaseUrl });
  if (options.cluster !== undefined) loaded.scale.redisClusterNodes = parseClusterNodes(options.cluster);
  const config: Config = { ...loaded, redisPrefix: `test:${name}:`, ...overrides };
  const pool = createPool(databaseUrl, 5);
  await migrate(pool);
  const redis = createJobsRedis(config);
  return {
    config,
    pool,
    redis,
    databaseUrl,
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

/** Every key matching `pattern`, on every master (a full SCAN: other test files share this Redis). */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for await (const { keys } of scanEach(redis, pattern)) found.push(...keys);
  return found;
}
