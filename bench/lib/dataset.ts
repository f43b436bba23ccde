// The API benchmark's data: UCI Online Retail imported and built by the real jobs, in a
// database and Redis prefix of its own so the demo's data is never touched.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import type { RedisClient } from '../../src/store/redis/client.ts';
import { KEY_LAYOUT, redisKeys } from '../../src/store/redis/keys.ts';
import { migrate } from '../../src/store/pg/migrate.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
export const BENCH_DATABASE = 'recs_bench_api';
export const BENCH_PREFIX = 'bench:api:';

export interface Sample {
  users: string[];
  items: string[];
  /** Per sampled user, a few items they bought: replayed as views so recently-viewed has data. */
  views: { user: string; item: string }[];
}

/** URL of the bench database (created when missing), next to the one in `baseUrl`. */
export async function benchDatabase(baseUrl: string, name = BENCH_DATABASE): Promise<string> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (!rowCount) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs one of the CLIs (jobs/*.ts) to the end; rejects when it fails. */
export async function runJob(script: string, args: string[], env: Record<string, string>): Promise<void> {
  console.error(`bench: ${script} ${args.join(' ')}`);
  await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
}

/**
 * Migrates, imports UCI (once) and builds the model (when none is live, or when asked), with the
 * real CLIs; `env` says more about where (REDIS_CLUSTER_NODES: into a Redis Cluster).
 */
export async function prepareModel(databaseUrl: string, redis: RedisClient, pool: pg.Pool, rebuild: boolean, prefix = BENCH_PREFIX, env: Record<string, string> = {}): Promise<void> {
  env = { ...env, DATABASE_URL: databaseUrl, REDIS_PREFIX: prefix, LOG_LEVEL: 'warn' };
  // A bench database made by an older checkout lacks the newer tables the server reads.
  await migrate(pool);
  const hasEvents = (await pool.query('SELECT 1 FROM events LIMIT 1')).rowCount! > 0;
  if (!hasEvents) await runJob('jobs/import.ts', ['--dataset', 'uci'], env);
  if (rebuild || !(await servable(redis, pool, prefix))) await runJob('jobs/build.ts', [], env);
}

/**
 * Is there a live model of today's key layout, and are the users' purchases where the API reads
 * them (joined, src/store/redis/user-writes.ts)? A build of an older checkout, or one whose users stage
 * did not finish, would make the per-user endpoints look cheaper (no purchases) or dearer
 * (purchases joined on every read) than they are.
 */
async function servable(redis: RedisClient, pool: pg.Pool, prefix: string): Promise<boolean> {
  const keys = redisKeys(prefix);
  const version = await redis.get(keys.current);
  const meta = version === null ? null : await redis.get(keys.meta(Number(version)));
  if (meta === null || (JSON.parse(meta) as { layout?: number }).layout !== KEY_LAYOUT) return false;
  const buyer = (await pool.query<{ user_id: string }>(`SELECT user_id FROM events WHERE type = 'purchase' ORDER BY id DESC LIMIT 1`)).rows[0];
  return buyer === undefined || (await redis.exists(keys.boughtIds(buyer.user_id))) === 1;
}

/** A deterministic spread of users and items (hashed order, not the hot head of the data). */
export async function sample(pool: pg.Pool, size: number): Promise<Sample> {
  const users = (await pool.query<{ user_id: string }>(`SELECT user_id FROM events WHERE type = 'purchase' GROUP BY user_id ORDER BY md5(user_id) LIMIT $1`, [size])).rows.map((r) => r.user_id);
  const items = (await pool.query<{ item_id: string }>(`SELECT item_id FROM events WHERE type = 'purchase' GROUP BY item_id ORDER BY md5(item_id) LIMIT $1`, [size])).rows.map((r) => r.item_id);
  const views = (
    await pool.query<{ user: string; item: string }>(
      `SELECT user_id AS user, item_id AS item FROM (
       SELECT user_id, item_id, row_number() OVER (PARTITION BY user_id ORDER BY max(occurred_at) DESC, item_id) AS n
       FROM events WHERE type = 'purchase' AND user_id = ANY($1) GROUP BY user_id, item_id) t
     WHERE n <= 5`,
      [users],
    )
  ).rows;
  return { users, items, views };
}
