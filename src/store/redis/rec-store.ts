// The RecStore of src/recommend over Redis (key layout: keys.ts, values: model-format.ts).
// Model values never change once their version is live, so they are cached in-process, in
// cache spaces of their version; misses are read in one MGET or pipeline per batch (on a Redis
// Cluster, where one command cannot span slots, one command per key: client.ts getMany).
// Per-user keys change with every event and are always read from Redis. While Redis is away,
// the last version read still answers from the cache alone (cachedOnly, src/recommend/degraded.ts).
import type { ServingConfig } from '../../config.ts';
import type { DegradableStore } from '../../recommend/degraded.ts';
import { slottedList, type SlottedList } from '../../cf/personalize.ts';
import type { BlendModel } from '../../cf/repeat/blend.ts';
import type { ItemRepeat } from '../../cf/repeat/stats.ts';
import type { HistoryWanted, ListRef, ModelView, RankedList, RecStore, RepeatModel, UserHistory } from '../../recommend/types.ts';
import { ItemSlots } from './item-slots.ts';
import type { Keys } from './keys.ts';
import type { InvalidatedCache } from '../../lib/invalidated-cache.ts';
import type { KeyTracking } from './key-tracking.ts';
import type { RecResult, ResultMemo } from '../../recommend/recommend.ts';
import type { LruCache, CacheSpace, CacheStats } from '../../lib/lru-cache.ts';
import { unpackItemRepeat, unpackNeighbours } from './model-format.ts';
import type { CatalogFields } from '../../recommend/types.ts';
import { historyKeyPrefixes, readHistory } from './user-history.ts';
import { getMany, isCluster, type RedisClient } from './client.ts';

/** A version's meta key, as the build writes it (ModelPublisher.publishModel); older builds lack the later fields. */
export interface ModelMeta {
  built_at?: string;
  model?: string;
  repeat?: RepeatModel | null;
  blend?: BlendModel | null;
  [field: string]: unknown;
}

const EMPTY_LIST: RankedList = { ids: [], scores: [] };
const NO_NEIGHBOURS: SlottedList = slottedList([], [], []);
const NO_HISTORY: UserHistory = { viewed: [], bought: [] };
// Rough heap cost of a cached value: UTF-16 characters plus object and array overheads.
const ENTRY_OVERHEAD_BYTES = 96;
const ELEMENT_OVERHEAD_BYTES = 24;

type StoreOptions = Pick<ServingConfig, 'modelRefreshMs'> & {
  /** A history read found the user flags missing (Redis lost its data): copy them back (src/store/redis/user-flags.ts). */
  onFlagsMissing?: () => void;
  /** Personal results kept until Redis says the user's keys changed (key-tracking.ts): the store has its users' keys watched. */
  tracked?: { tracking: KeyTracking; results: InvalidatedCache<RecResult> };
};

/**
 * No model version is live in Redis: never built, or Redis lost its data. Counted as a backing
 * service being unavailable: a process that served a version before answers degraded from its
 * memory of it (src/recommend/degraded.ts), one that never did answers 503.
 */
export class NoModelError extends Error {
  readonly code = 'ENOMODEL';
  constructor() {
    super('no model version is live in Redis: run the build (npm run build-model)');
  }
}

export class RedisRecStore implements DegradableStore {
  readonly results: ResultMemo | null;
  private live: RedisModelView | null = null;
  private checkedAt = -Infinity;
  private refreshing: Promise<ModelView> | null = null;

  /** `cache` may be shared (one budget for every tenant's model values). */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly cache: LruCache,
    private readonly options: StoreOptions,
  ) {
    const { tracked } = options;
    tracked?.tracking.watch(historyKeyPrefixes(keys));
    this.results = tracked === undefined ? null : keptResults(tracked.results, tracked.tracking, keys);
  }

  /**
   * The live version, asked of Redis at most once per refresh interval: concurrent requests
   * share one read (single flight), and each request keeps the view it got for its whole life.
   */
  model(): Promise<ModelView> {
    if (this.live !== null && performance.now() - this.checkedAt < this.options.modelRefreshMs) return Promise.resolve(this.live);
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** The live version's meta, as the build wrote it (ModelPublisher.publishModel). */
  async meta(): Promise<{ version: number; meta: Readonly<ModelMeta> }> {
    const view = (await this.model()) as RedisModelView;
    return { version: view.version, meta: view.meta };
  }

  async history(user: string, wanted: HistoryWanted): Promise<UserHistory> {
    const history = await readHistory(this.redis, this.keys, user, wanted);
    if (history.withheld) this.options.onFlagsMissing?.();
    return history;
  }

  cacheStats(): CacheStats {
    return this.cache.stats();
  }

  cachedOnly(): RecStore | null {
    const view = this.live?.cachedOnly();
    return view === undefined ? null : { model: () => Promise.resolve(view), history: () => Promise.resolve(NO_HISTORY) };
  }

  private async refresh(): Promise<ModelView> {
    const raw = await this.redis.get(this.keys.current);
    // The last version read stays in `live`, for cachedOnly() to answer from while none is live.
    if (raw === null) throw new NoModelError();
    const version = Number(raw);
    if (this.live === null || this.live.version !== version) {
      const raw = await this.redis.get(this.keys.meta(version));
      const meta = raw === null ? {} : (JSON.parse(raw) as ModelMeta);
      this.live = new RedisModelView(this.redis, this.keys, this.cache, version, meta);
      // Read ahead, off the request path: the popular list and its items are what a degraded answer is made of.
      void this.live.warm().catch(() => undefined);
    }
    this.checkedAt = performance.now();
    return this.live;
  }
}

// Rough heap cost of a kept result per item (its catalog fields are shared with the model cache).
const RESULT_ITEM_BYTES = 120;

/** A tenant's view of the process's kept results: a user's are under the hash tag of their keys, which Redis names when they change. */
function keptResults(cache: InvalidatedCache<RecResult>, tracking: KeyTracking, keys: Keys): ResultMemo {
  return {
    mark: () => cache.mark(),
    // Read-your-writes: a change any process made before this request is heard before a kept result is served.
    get: async (user, key) => ((await tracking.heard()) ? cache.get(keys.userTag(user), key) : undefined),
    keep: (mark, users, key, result) => cache.keep(mark, users.map(keys.userTag), key, result, RESULT_ITEM_BYTES * result.items.length),
  };
}

/**
 * One version of the model, with its own cache spaces. Callers must not mutate what it
 * returns: values are shared through the cache.
 */
class RedisModelView implements ModelView {
  readonly builtAt: string | null;
  readonly repeat: RepeatModel | null;
  readonly blend: BlendModel | null;
  private readonly neighbourCache: CacheSpace<SlottedList>;
  private readonly slots = new ItemSlots();
  private readonly itemCache: CacheSpace<CatalogFields | null>;
  private readonly repeatCache: CacheSpace<ItemRepeat | null>;
  private readonly listCache: CacheSpace<RankedList>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    cache: LruCache,
    readonly version: number,
    readonly meta: Readonly<ModelMeta>,
  ) {
    this.builtAt = meta.built_at ?? null;
    this.repeat = meta.repeat ?? null;
    this.blend = meta.blend ?? null;
    this.neighbourCache = cache.space();
    this.itemCache = cache.space();
    this.repeatCache = cache.space();
    this.listCache = cache.space();
  }

  async neighbours(items: readonly string[]): Promise<SlottedList[]> {
    const v = this.version;
    const fetch = (missing: string[]) =>
      getMany(
        this.redis,
        missing.map((item) => this.keys.neighbours(v, item)),
      );
    // The parsed list also holds a 4-byte slot per neighbour (a neighbour's JSON is ~15 characters,
    // 30 bytes): counted as half the JSON again, a generous bound.
    return through(
      this.neighbourCache,
      items,
      fetch,
      (raw) => unpackNeighbours(raw, this.slots),
      (raw) => (3 * stringBytes(raw)) / 2,
    );
  }

  async items(ids: readonly string[]): Promise<(CatalogFields | null)[]> {
    const v = this.version;
    const fetch = (missing: string[]) =>
      getMany(
        this.redis,
        missing.map((id) => this.keys.item(v, id)),
      );
    return through(this.itemCache, ids, fetch, (raw) => (raw === null ? null : (JSON.parse(raw) as CatalogFields)), stringBytes);
  }

  /** Whole ranked lists (sorted sets), best first; the misses in one pipeline (on a Cluster, one command each, as getMany). */
  async lists(refs: readonly ListRef[]): Promise<RankedList[]> {
    const v = this.version;
    const redisKeys = this.listKeys(v, refs);
    const redis = this.redis;
    const fetch = async (missing: string[]): Promise<string[][]> => {
      if (isCluster(redis)) return Promise.all(missing.map((key) => redis.zrange(key, '0', '-1', 'WITHSCORES')));
      const pipeline = redis.pipeline();
      for (const key of missing) pipeline.zrange(key, '0', '-1', 'WITHSCORES');
      const results = (await pipeline.exec()) as [Error | null, string[]][];
      return results.map(([err, flat]) => {
        if (err) throw err;
        return flat;
      });
    };
    return through(this.listCache, redisKeys, fetch, parseRankedList, (flat) => flat.reduce((bytes, s) => bytes + stringBytes(s) + ELEMENT_OVERHEAD_BYTES, 0));
  }

  /** Brings the overall popular list and its items' catalog fields into the cache. */
  async warm(): Promise<void> {
    const [popular] = await this.lists([{ kind: 'popular' }]);
    await this.items(popular.ids);
  }

  async itemRepeats(ids: readonly string[]): Promise<(ItemRepeat | null)[]> {
    const v = this.version;
    const fetch = (missing: string[]) =>
      getMany(
        this.redis,
        missing.map((id) => this.keys.itemRepeat(v, id)),
      );
    return through(this.repeatCache, ids, fetch, unpackItemRepeat, stringBytes);
  }

  /** This version from the cache alone: a miss reads as absent (no list, an unknown item); nothing is fetched or stored. */
  cachedOnly(): ModelView {
    const v = this.version;
    const cached = <T>(space: CacheSpace<T>, keys: readonly string[], absent: T) => Promise.resolve(keys.map((key) => space.get(key) ?? absent));
    return {
      version: v,
      builtAt: this.builtAt,
      neighbours: (items) => cached(this.neighbourCache, items, NO_NEIGHBOURS),
      items: (ids) => cached(this.itemCache, ids, null),
      lists: (refs) => cached(this.listCache, this.listKeys(v, refs), EMPTY_LIST),
      repeat: this.repeat,
      blend: this.blend,
      itemRepeats: (ids) => cached(this.repeatCache, ids, null),
    };
  }

  private listKeys(v: number, refs: readonly ListRef[]): string[] {
    return refs.map((ref) => (ref.kind === 'brand' ? this.keys.brand(v, ref.brand) : this.keys.popular(v, ref.category)));
  }
}

/** Values by key through a cache space; the misses fetched in one batch. */
async function through<R, T>(space: CacheSpace<T>, keys: readonly string[], fetch: (missing: string[]) => Promise<R[]>, parse: (raw: R) => T, size: (raw: R) => number): Promise<T[]> {
  const out = new Array<T>(keys.length);
  let missing: number[] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const hit = space.get(keys[i]);
    if (hit === undefined) (missing ??= []).push(i);
    else out[i] = hit;
  }
  if (missing === undefined) return out;
  const raws = await fetch(missing.map((i) => keys[i]));
  missing.forEach((i, k) => {
    const value = parse(raws[k]);
    // A missing key is cached too (as its empty value): unknown items stay off Redis as well.
    space.set(keys[i], value, ENTRY_OVERHEAD_BYTES + size(raws[k]));
    out[i] = value;
  });
  return out;
}

function stringBytes(raw: string | null): number {
  return raw === null ? 0 : 2 * raw.length;
}

/**
 * The build stores ranked lists scored by *negative* popularity (jobs/lib/build-model.ts), so
 * ascending order is rank order with ties by smaller id; scores are negated back here.
 */
function parseRankedList(flat: string[]): RankedList {
  if (flat.length === 0) return EMPTY_LIST;
  const ids: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    ids.push(flat[i]);
    scores.push(-Number(flat[i + 1]));
  }
  return { ids, scores };
}
