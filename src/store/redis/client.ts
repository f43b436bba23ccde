import { once } from 'node:events';
import { Cluster, Command, Redis, type ChainableCommander } from 'ioredis';
import type { Config } from '../../config.ts';

/** One Redis or a Redis Cluster (REDIS_CLUSTER_NODES): every store takes either. */
export type RedisClient = Redis | Cluster;

type RedisTarget = Pick<Config, 'redisUrl' | 'scale'>;

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

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

// The jobs' patience on a Cluster: an offline queue, no time limit per command.
const PATIENT_CLUSTER = { enableOfflineQueue: true, redisOptions: { maxRetriesPerRequest: 1, commandTimeout: undefined } };

/** The jobs' client of the configured Redis: a Cluster's when REDIS_CLUSTER_NODES is set, with the same patience. */
export function createJobsRedis(config: RedisTarget): RedisClient {
  const nodes = config.scale.redisClusterNodes;
  if (nodes.length === 0) return createRedis(config.redisUrl);
  return new Cluster(nodes, PATIENT_CLUSTER);
}

/**
 * Runs a long background job (tens of thousands of commands) with the jobs' patience: on the
 * API's Cluster client, whose every command must answer within REDIS_COMMAND_TIMEOUT_MS, one
 * pause of the event loop that long would fail the whole job, so it gets a connection of its
 * own, closed after. Any other client runs it as it is.
 */
export async function withPatience<T>(redis: RedisClient, job: (redis: RedisClient) => Promise<T>): Promise<T> {
  if (!isCluster(redis) || redis.options.redisOptions?.commandTimeout === undefined) return job(redis);
  const patient = redis.duplicate([], PATIENT_CLUSTER);
  try {
    return await job(patient);
  } finally {
    patient.disconnect();
  }
}

/**
 * The API's client fails fast while Redis is away or slow, so that a request falls back (a
 * degraded answer, a 503) within its deadline instead of waiting: no offline queue, commands in
 * flight when the connection drops fail at once rather than being resent, every command is
 * bounded by `commandTimeoutMs`. It reconnects by itself, at most a second apart, so it
 * recovers within about a second of Redis coming back.
 */
export function createServingRedis(url: string, commandTimeoutMs: number): Redis {
  return coalesceWrites(
    new Redis(url, {
      commandTimeout: commandTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: 1000,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    }),
  );
}

/**
 * The API's client of the configured Redis. On a Cluster, the same bounds per node connection;
 * a command that meets a failover (connection closed, CLUSTERDOWN, TRYAGAIN) is retried 100 ms
 * later, a few times at most, and MOVED is followed at once, so a request degrades during a
 * failover and is whole again once the replica has taken over, without a restart.
 */
export function createServingClient(config: RedisTarget & { serving: Pick<Config['serving'], 'redisCommandTimeoutMs'> }, { coalesce = true } = {}): RedisClient {
  const nodes = config.scale.redisClusterNodes;
  const timeoutMs = config.serving.redisCommandTimeoutMs;
  if (nodes.length === 0) return createServingRedis(config.redisUrl, timeoutMs);
  const cluster = new Cluster(nodes, {
    enableOfflineQueue: false,
    clusterRetryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    maxRedirections: 6,
    redisOptions: { commandTimeout: timeoutMs, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, connectTimeout: 1000 },
  });
  // `coalesce: false` only for bench/redis.ts, which measures what it saves.
  if (coalesce) cluster.on('+node', (node: Redis) => coalesceWrites(node));
  return cluster;
}

type Corkable = { cork(): void; uncork(): void };

/**
 * Commands sent during one turn of the event loop leave in one write: the socket is corked at
 * the first and uncorked in the check phase (setImmediate), after every HTTP request read in
 * that poll phase has sent its command. Under load that is several commands per syscall, and
 * Redis reads and answers them as one batch. ioredis' autopipelining batches the same way but
 * builds a pipeline per batch, which cost more client CPU than the writes it saved. On a
 * Cluster each node's connection is corked the same way.
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
 * by SHA, and reloaded by ioredis after a Redis restart (NOSCRIPT). On a Cluster every key of a
 * call must share one slot (a hash tag).
 */
export function luaCommand<Args extends (string | number)[], Reply>(name: string, numberOfKeys: number, lua: string): (redis: RedisClient, ...args: Args) => Promise<Reply> {
  return (redis, ...args) => {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
    return (redis as unknown as Record<string, (...a: Args) => Promise<Reply>>)[name](...args);
  };
}

// Replies of commands a node did not run: the slot is served elsewhere now (a failover) or is
// about to be. Sent again, they run where the slot map, refreshed, says.
const NOT_RUN = /^(MOVED|TRYAGAIN|CLUSTERDOWN) /;
const RESENDS = 3;

interface Queued {
  key: string;
  queue: (pipeline: ChainableCommander) => unknown;
  pipeline: ChainableCommander;
  index: number;
}

/**
 * Commands on many keys, one round trip per node. A pipeline goes to one node (ioredis checks
 * that its keys are all served there), so on a Cluster there is one pipeline per master, chosen
 * by each key's slot; on a single Redis, one.
 */
export class Batch {
  private readonly pipelines = new Map<string, ChainableCommander>();
  private readonly queued: Queued[] = [];

  constructor(private readonly redis: RedisClient) {}

  /** Queues one command on `key` (and maybe keys of its slot) on the pipeline of its node. */
  add(key: string, queue: (pipeline: ChainableCommander) => unknown): void {
    const node = isCluster(this.redis) ? nodeOf(this.redis, routedSlot(key)) : '';
    let pipeline = this.pipelines.get(node);
    if (pipeline === undefined) this.pipelines.set(node, (pipeline = this.redis.pipeline()));
    this.queued.push({ key, queue, pipeline, index: pipeline.length });
    queue(pipeline);
  }

  /** Commands queued. */
  get length(): number {
    return this.queued.length;
  }

  /**
   * Sends every pipeline at once; the replies, [error, reply] each, in the order of add(). A
   * Batch is used once. On a Cluster, what a node did not run because its slots moved (a
   * failover the client had not heard of: ioredis resends a pipeline only when every command
   * failed alike, and MOVED names each command's slot) goes again, regrouped on the refreshed
   * slot map, a few times at most; so does a pipeline ioredis refused whole (its keys' slots
   * parted meanwhile), which was not sent.
   */
  async exec(resends = RESENDS): Promise<[Error | null, unknown][]> {
    const pipelines = [...this.pipelines.values()];
    const results = await Promise.all(
      pipelines.map((p) =>
        p.exec().then(
          (r) => r ?? [],
          (err: Error) => Array.from({ length: p.length }, (): [Error, null] => [Object.assign(err, { unsent: true }), null]),
        ),
      ),
    );
    const byPipeline = new Map(pipelines.map((p, i) => [p, results[i]]));
    const replies = this.queued.map(({ pipeline, index }) => byPipeline.get(pipeline)![index]);
    const again = replies.flatMap(([err], i) => (err && ((err as { unsent?: boolean }).unsent || NOT_RUN.test(err.message)) ? [i] : []));
    if (!isCluster(this.redis) || again.length === 0 || resends === 0) return replies;
    const cluster = this.redis;
    await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
    const retry = new Batch(cluster);
    for (const i of again) retry.add(this.queued[i].key, this.queued[i].queue);
    (await retry.exec(resends - 1)).forEach((reply, k) => {
      replies[again[k]] = reply;
    });
    return replies;
  }
}

/**
 * The slot ioredis routes a key to and checks a pipeline's keys by. It differs from Redis's
 * (keys.ts keySlot) only for a key whose first `{` is followed at once by `}` and a later `}`;
 * grouping by Redis's would then have ioredis refuse the pipeline.
 */
function routedSlot(key: string): number {
  return new Command('exists', [key]).getSlot();
}

/** The nodes (master and replicas) serving a slot, as ioredis groups pipelines; the slot itself before the slot map is known. */
function nodeOf(cluster: Cluster, slot: number): string {
  return cluster.slots[slot]?.join(';') ?? `slot ${slot}`;
}

/** Sends a batch or a pipeline; its replies, or the first error among them thrown. */
export async function execOrThrow(pipeline: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
  return results.map(([, reply]) => reply);
}

/**
 * Values of string keys, in order. One MGET on a single Redis; on a Cluster an MGET of keys in
 * several slots fails (CROSSSLOT), so each key is a GET of its own, sent as the client routes it:
 * the GETs of one event-loop turn leave in one write per node (coalesceWrites on the API's
 * client), which measured cheaper than an MGET per slot or a pipeline per node (docs/scaling.md).
 */
export function getMany(redis: RedisClient, keys: readonly string[]): Promise<(string | null)[]> {
  if (!isCluster(redis)) return redis.mget(keys as string[]);
  return Promise.all(keys.map((key) => redis.get(key)));
}

/** The masters to SCAN: every key lives on one of them (a single Redis is its own). A Cluster's are known once it is ready. */
export async function masters(redis: RedisClient): Promise<Redis[]> {
  if (!isCluster(redis)) return [redis];
  if (redis.status !== 'ready') await once(redis, 'ready', { signal: AbortSignal.timeout(10_000) });
  return redis.nodes('master');
}

/**
 * Every key matching `pattern`, in batches as SCAN finds them, with the node that holds them, on
 * every master (a key of a Cluster lives on one; a master's replica, when the client has not yet
 * heard of a failover, holds the same). Redis is never blocked for long.
 */
export async function* scanEach(redis: RedisClient, pattern: string, count = 1000): AsyncGenerator<{ node: Redis; keys: string[] }> {
  for (const node of await masters(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield { node, keys };
    } while (cursor !== '0');
  }
}

/** One single-key command for each of `keys` (keys SCAN found), in one round trip per node; the replies in order. */
export function eachKey(redis: RedisClient, keys: readonly string[], command: string, ...args: (string | number)[]): Promise<unknown[]> {
  const batch = new Batch(redis);
  for (const key of keys) batch.add(key, (p) => p.call(command, key, ...args));
  return execOrThrow(batch);
}

/** Deletes every key matching `pattern` on every master; returns how many went. */
export async function deleteMatching(redis: RedisClient, pattern: string): Promise<number> {
  let deleted = 0;
  for await (const { keys } of scanEach(redis, pattern)) {
    // One key per UNLINK: on a Cluster, keys of several slots in one command fail (CROSSSLOT).
    for (const n of await eachKey(redis, keys, 'UNLINK')) deleted += n as number;
  }
  return deleted;
}
