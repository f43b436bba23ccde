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
  return coalesceWrites(new Redis(url, {
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 1000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
  }));
}

type Corkable = { cork(): void; uncork(): void };

/**
 * Commands sent during one turn of the event loop leave in one write: the socket is corked at
 * the first and uncorked in the check phase (setImmediate), after every HTTP request read in
 * that poll phase has sent its command. Under load that is several commands per syscall, and
 * Redis reads and answers them as one batch. ioredis' autopipelining batches the same way but
 * builds a pipeline per batch, which cost more client CPU than the writes it saved.
 */
function coalesceWrites(redis: Redis): Redis {
  let corked: Corkable | null = null;
  const uncork = () => {
    const socket = corked!;
    corked = null;
    socket.uncork();
  };
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command, stream) => {
    // A reconnect replaces the socket: the one corked is the one uncorked.
    const socket = (redis as unknown as { stream?: Corkable }).stream;
    if (corked === null && socket !== undefined && stream === undefined) {
      corked = socket;
      socket.cork();
      setImmediate(uncork);
    }
    return send(command, stream);
  }) as typeof redis.sendCommand;
  return redis;
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

/** Deletes every key matching `pattern`, SCANning in batches so Redis is never blocked; returns how many went. */
export async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  for await (const keys of redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  }
  return deleted;
}
