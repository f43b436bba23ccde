import { Redis } from 'ioredis';

/**
 * Jobs, tests and tools: a command waits in the offline queue through a brief reconnect and has
 * no time limit (a publish pipeline may take seconds on a busy Redis).
 */
export function createRedis(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    lazyConnect: false,
  });
}

/**
 * The API's client fails fast while Redis is away or slow, so that a request falls back (a
 * degraded answer, a 503) within its deadline instead of waiting: no offline queue, commands in
 * flight when the connection drops fail at once rather than being resent, every command is
 * bounded by `commandTimeoutMs`. It reconnects by itself, at most a second apart, so it
 * recovers within about a second of Redis coming back.
 */
export function createServingRedis(url: string, commandTimeoutMs: number): Redis {
  return new Redis(url, {
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 1000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
  });
}

/**
 * A Lua script as a command: one round trip and one reply, where a pipeline of the same
 * commands costs the client several times the CPU. Defined on a client at its first call, sent
 * by SHA, and reloaded by ioredis after a Redis restart (NOSCRIPT).
 */
export function luaCommand<Args extends (string | number)[], Reply>(name: string, numberOfKeys: number, lua: string): (redis: Redis, ...args: Args) => Promise<Reply> {
  return (redis, ...args) => {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
    return (redis as unknown as Record<string, (...a: Args) => Promise<Reply>>)[name](...args);
  };
}

/** Deletes every key matching `pattern`, SCANning in batches so Redis is never blocked. */
export async function deleteMatching(redis: Redis, pattern: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await redis.unlink(...keys);
  }
}
