// Starts the API. Everything else lives in app.ts so tests can build the same app.
//
// API_WORKERS=N (> 1): this process forks N workers that share the port (node:cluster; the
// primary accepts connections and hands them round robin). Each worker is a whole API with its
// own clients and caches: they agree on the model because each request reads one version
// (src/store/redis/rec-store.ts), and two workers serve different versions for at most
// SERVING_MODEL_REFRESH_MS after a swap (docs/scaling.md). A worker that dies once it served is
// replaced; one that dies before it listens stops the whole (a bad setting would only loop).
import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import { buildApp } from './app.ts';
import { loadConfig, type Config } from './config.ts';
import { loggerOptions } from './log.ts';
import { createPool } from './store/pg/pool.ts';
import { createServingClient, isCluster } from './store/redis/client.ts';

// A stuck dependency (or worker) must not keep a terminated pod alive forever.
const SHUTDOWN_LIMIT_MS = 10_000;

async function serve(config: Config): Promise<void> {
  // Clients that fail fast (bounded timeouts): a request answers 503 or degraded instead of hanging.
  const { serving } = config;
  const pool = createPool(config.databaseUrl, 10, { connectMs: serving.pgConnectTimeoutMs, statementMs: serving.pgStatementTimeoutMs });
  const redis = createServingClient(config);
  // ioredis reconnects by itself (about once a second while Redis is away): say so in the log. The
  // listener goes on at once: an error while the app is being built (Redis down, or a slow start
  // timing out its first command) would otherwise be printed raw as an "Unhandled error event".
  const startupErrors: Error[] = [];
  let logRedisError = (err: Error) => {
    startupErrors.push(err);
  };
  redis.on('error', (err: Error) => logRedisError(err));
  // A Cluster reports a node's connection errors apart; they are the same outage.
  if (isCluster(redis)) redis.on('node error', (err: Error) => logRedisError(err));
  const app = await buildApp(config, { pool, redis });
  // Connection errors repeat about once a second while Redis is away: logged as one outage.
  logRedisError = (err) => app.outages!.redis.down(err);
  startupErrors.forEach(logRedisError);
  redis.on('ready', () => app.outages!.redis.up());
  // Which process answered, when there are several (operations, and the test of their consistency).
  if (cluster.isWorker) {
    const id = String(cluster.worker!.id);
    app.addHook('onSend', (_request, reply, payload, done) => {
      void reply.header('x-recs-worker', id);
      done(null, payload);
    });
  }

  let closing = false;
  async function shutdown(signal: string): Promise<void> {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    setTimeout(() => process.exit(1), SHUTDOWN_LIMIT_MS).unref();
    await app.close();
    await Promise.allSettled([pool.end(), redis.quit()]);
    process.exit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ host: config.host, port: config.port });
}

/** The primary of API_WORKERS: forks them, replaces those that die, passes a stop on and waits for them. */
function supervise(config: Config): void {
  const log = pino(loggerOptions(config.logLevel));
  const served = new WeakSet<Worker>();
  let stopping = false;
  let exitCode = 0;
  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => {
      served.add(worker);
      log.info({ worker: worker.id, workerPid: worker.process.pid }, 'API worker listening');
    });
  };
  cluster.on('exit', (worker, code, signal) => {
    const left = Object.keys(cluster.workers ?? {}).length;
    if (stopping) {
      if (left === 0) process.exit(exitCode);
      return;
    }
    if (!served.has(worker)) {
      log.error({ worker: worker.id, code, signal }, 'an API worker exited before it listened: stopping');
      exitCode = 1;
      stop('a worker failed');
      return;
    }
    log.warn({ worker: worker.id, workerPid: worker.process.pid, code, signal }, 'API worker died: starting another');
    fork();
  });
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'stopping the API workers');
    setTimeout(() => process.exit(1), SHUTDOWN_LIMIT_MS).unref();
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(exitCode);
    for (const worker of workers) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  log.info({ workers: config.scale.apiWorkers }, 'starting the API workers');
  for (let i = 0; i < config.scale.apiWorkers; i++) fork();
}

const config = loadConfig();
if (config.scale.apiWorkers > 1 && cluster.isPrimary) supervise(config);
else await serve(config);
