// Writes one model version into Redis and makes it live atomically. The protocol:
//   1. take the build lock (one publisher at a time), allocate version N (from PostgreSQL, which
//      keeps the count when Redis loses its data: never reused, src/store/pg/model-versions.ts);
//   2. write every key of N with pipelined batches, one pipeline per node on a Cluster (nothing
//      reads N yet);
//   3. SET current N: one command, so readers see the old version or the new one, never a mix;
//   4. let older versions expire after a grace period (in-flight requests finish on them).
// A publisher that dies before step 3 leaves the live version untouched; the next build
// expires the orphaned keys of N.
import { randomUUID } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { RankedItems } from '../../cf/popularity.ts';
import type { ModelData } from '../../model/model.ts';
import { Batch, eachKey, execOrThrow, scanEach, type RedisClient } from './client.ts';
import type { Keys } from './keys.ts';
import { packItemRepeat, packNeighbours } from './model-format.ts';

export interface PublishOptions {
  /** Commands per round trip (on a Cluster, spread over one pipeline per node, sent together). */
  batchSize?: number;
  /** Pause between batches, to spare a Redis that is also serving traffic. */
  pauseMs?: number;
  /** How long the previous versions stay readable after the swap. */
  oldVersionTtlSeconds: number;
  /** The lock lapses this long after the last refresh: how soon a crashed build stops blocking the next. */
  lockTtlMs: number;
}

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const REFRESH_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export class BuildLockedError extends Error {
  constructor(readonly lapsesInMs: number) {
    super(`another build is publishing right now (build lock held); it lapses in ${Math.ceil(lapsesInMs / 1000)} s unless its holder keeps it: try again then, or pass --wait`);
  }
}

export class ModelPublisher {
  readonly version: number;
  keysWritten = 0;
  private batch: Batch;
  private queued = 0;
  private readonly batchSize: number;
  private readonly lockTimer: NodeJS.Timeout;

  private constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly options: PublishOptions,
    private readonly lockToken: string,
    version: number,
  ) {
    this.version = version;
    this.batchSize = options.batchSize ?? 2000;
    this.batch = new Batch(redis);
    const ttl = options.lockTtlMs;
    // Keep the lock while we work; if this process dies the lock lapses on its own.
    this.lockTimer = setInterval(() => {
      void redis.eval(REFRESH_LOCK, 1, keys.buildLock, lockToken, ttl).catch(() => undefined);
    }, ttl / 3);
    this.lockTimer.unref();
  }

  /**
   * Takes the build lock and a fresh version number from `allocate` (given the least number it
   * may return). Throws BuildLockedError if another build holds the lock, or, with `waitMs`,
   * still holds it after that long.
   */
  static async begin(redis: RedisClient, keys: Keys, options: PublishOptions, allocate: (atLeast: number) => Promise<number>, waitMs = 0): Promise<ModelPublisher> {
    const token = randomUUID();
    const giveUpAt = Date.now() + waitMs;
    while ((await redis.set(keys.buildLock, token, 'PX', options.lockTtlMs, 'NX')) !== 'OK') {
      const lapsesInMs = Math.max(0, await redis.pttl(keys.buildLock));
      if (Date.now() >= giveUpAt) throw new BuildLockedError(lapsesInMs);
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, Math.max(50, lapsesInMs), Math.max(1, giveUpAt - Date.now()))));
    }
    try {
      // Numbers an older install kept in Redis: carried on above, never reused. (Two GETs: the
      // keys may be in two Cluster slots.)
      const [current, seq] = await Promise.all([redis.get(keys.current), redis.get(`${keys.current}:seq`)]);
      const version = await allocate(Math.max(Number(current ?? 0), Number(seq ?? 0)) + 1);
      await redis.zadd(`${keys.current}:versions`, Date.now(), String(version));
      return new ModelPublisher(redis, keys, options, token, version);
    } catch (err) {
      await redis.eval(RELEASE_LOCK, 1, keys.buildLock, token).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Every key of the model under this version: each item's catalog fields, neighbour list and
   * repeat statistics, the ranked lists, then the meta (with buy-again's model and the for-you
   * blend: small, read once per version). `onProgress` hears the keys written so far.
   */
  async publishModel(data: ModelData, meta: Record<string, unknown>, onProgress: (keys: number) => void = () => undefined): Promise<void> {
    const v = this.version;
    for (const [id, fields] of data.catalog) {
      await this.add(this.keys.item(v, id), (r, key) => r.set(key, JSON.stringify(fields)));
      onProgress(this.keysWritten);
    }
    const { neighbours } = data;
    for (let i = 0; i < neighbours.itemIds.length; i++) {
      if (neighbours.offsets[i + 1] === neighbours.offsets[i]) continue;
      await this.add(this.keys.neighbours(v, neighbours.itemIds[i]), (r, key) => r.set(key, packNeighbours(neighbours, i)));
      onProgress(this.keysWritten);
    }
    for (const [id, stats] of data.repeat?.items ?? []) {
      await this.add(this.keys.itemRepeat(v, id), (r, key) => r.set(key, packItemRepeat(stats)));
      onProgress(this.keysWritten);
    }
    const ranked = (list: RankedItems) => (r: ChainableCommander, key: string) => r.zadd(key, ...zaddArgs(list));
    if (data.popular.ids.length) await this.add(this.keys.popular(v), ranked(data.popular));
    for (const [category, list] of data.byCategory) await this.add(this.keys.popular(v, category), ranked(list));
    for (const [brand, list] of data.byBrand) await this.add(this.keys.brand(v, brand), ranked(list));
    const model = { version: v, ...meta, repeat: data.repeat?.model ?? null, blend: data.blend ?? null };
    await this.add(this.keys.meta(v), (r, key) => r.set(key, JSON.stringify(model)));
  }

  /** Queues one command on `key` (on its node's pipeline); flushes a full batch (awaiting it, so memory stays bounded). */
  private async add(key: string, write: (p: ChainableCommander, key: string) => void): Promise<void> {
    this.batch.add(key, (pipeline) => write(pipeline, key));
    this.queued++;
    this.keysWritten++;
    if (this.queued >= this.batchSize) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.queued === 0) return;
    const batch = this.batch;
    this.batch = new Batch(this.redis);
    this.queued = 0;
    await execOrThrow(batch);
    if (this.options.pauseMs) await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
  }

  /** Makes this version live and schedules every other version for expiry. Returns the previous live version. */
  async swap(): Promise<number | null> {
    await this.flush();
    const previous = await this.redis.getset(this.keys.current, String(this.version));
    await this.expireOtherVersions();
    await this.release();
    return previous === null ? null : Number(previous);
  }

  /** Gives up: the live version stays as it was; this version's keys are expired. */
  async abort(): Promise<void> {
    this.batch = new Batch(this.redis);
    this.queued = 0;
    await expireVersion(this.redis, this.keys, this.version, 1).catch(() => undefined);
    await this.redis.zrem(`${this.keys.current}:versions`, String(this.version)).catch(() => undefined);
    await this.release();
  }

  private async expireOtherVersions(): Promise<void> {
    const versionsKey = `${this.keys.current}:versions`;
    const versions = (await this.redis.zrange(versionsKey, '0', '-1')).map(Number).filter((v) => v !== this.version);
    for (const v of versions) {
      await expireVersion(this.redis, this.keys, v, this.options.oldVersionTtlSeconds);
      await this.redis.zrem(versionsKey, String(v));
    }
  }

  private async release(): Promise<void> {
    clearInterval(this.lockTimer);
    await this.redis.eval(RELEASE_LOCK, 1, this.keys.buildLock, this.lockToken);
  }
}

/** Sets a TTL on every key of a version, on every master (found with SCAN, so Redis is never blocked). */
async function expireVersion(redis: RedisClient, keys: Keys, version: number, ttlSeconds: number): Promise<void> {
  for await (const { keys: found } of scanEach(redis, keys.versionPattern(version), 2000)) {
    // A user id may hold ":v{N}:": the pattern matches that user's keys too, which must not expire.
    const versionKeys = found.filter((key) => keys.isVersionKey(key, version));
    if (versionKeys.length) await eachKey(redis, versionKeys, 'EXPIRE', ttlSeconds);
  }
}

/**
 * ZADD arguments of a ranked list, scored by *negative* popularity: read in ascending order
 * (ZRANGE), equal scores then come smaller id first, the tie-break of the whole model.
 */
function zaddArgs(list: RankedItems): (string | number)[] {
  return list.ids.flatMap((id, i) => [-list.scores[i], id]);
}
