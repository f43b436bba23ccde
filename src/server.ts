// Starts the API. Everything else lives in app.ts so tests can build the same app.
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createPool } from './store/postgres.ts';
import { createServingRedis } from './store/redis.ts';

const config = loadConfig();
// Clients that fail fast (bounded timeouts): a request answers 503 or degraded instead of hanging.
const { serving } = config;
const pool = createPool(config.databaseUrl, 10, { connectMs: serving.pgConnectTimeoutMs, statementMs: serving.pgStatementTimeoutMs });
const redis = createServingRedis(config.redisUrl, serving.redisCommandTimeoutMs);
const app = await buildApp(config, { pool, redis });
// ioredis reconnects by itself (about once a second while Redis is away): say so in the log.
redis.on('error', (err) => app.log.warn({ err }, 'Redis connection error'));

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down: finishing in-flight requests');
  // A stuck dependency must not keep a terminated pod alive forever.
  setTimeout(() => process.exit(1), 10_000).unref();
  await app.close();
  await Promise.allSettled([pool.end(), redis.quit()]);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ host: config.host, port: config.port });
