// Starts the API. Everything else lives in app.ts so tests can build the same app.
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createPool } from './store/pg/pool.ts';
import { createServingRedis } from './store/redis/client.ts';

const config = loadConfig();
// Clients that fail fast (bounded timeouts): a request answers 503 or degraded instead of hanging.
const { serving } = config;
const pool = createPool(config.databaseUrl, 10, { connectMs: serving.pgConnectTimeoutMs, statementMs: serving.pgStatementTimeoutMs });
const redis = createServingRedis(config.redisUrl, serving.redisCommandTimeoutMs);
// ioredis reconnects by itself (about once a second while Redis is away): say so in the log. The
// listener goes on at once: an error while the app is being built (Redis down, or a slow start
// timing out its first command) would otherwise be printed raw as an "Unhandled error event".
const startupErrors: Error[] = [];
let logRedisError = (err: Error) => { startupErrors.push(err); };
redis.on('error', (err: Error) => logRedisError(err));
const app = await buildApp(config, { pool, redis });
// Connection errors repeat about once a second while Redis is away: logged as one outage.
logRedisError = (err) => app.outages!.redis.down(err);
startupErrors.forEach(logRedisError);
redis.on('ready', () => app.outages!.redis.up());

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
