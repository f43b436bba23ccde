// The build: PostgreSQL events → item-item model + popularity → a new Redis version, swapped
// in atomically. Stages are timed and reported; a failure at any point leaves the live
// version serving (see ModelPublisher).
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config, ModelKind, Similarity } from '../../src/config.ts';
import { fitEase } from '../../src/cf/ease.ts';
import { latestTime, type Interactions } from '../../src/cf/interactions.ts';
import { prepareItemKnn } from '../../src/cf/item-knn.ts';
import type { NeighbourLists } from '../../src/cf/neighbours.ts';
import { itemPopularity, rankByGroup, rankItems, type RankedItems } from '../../src/cf/popularity.ts';
import { ensureTenant } from '../../src/store/pg/tenants.ts';
import { KEY_LAYOUT, redisKeys } from '../../src/store/redis/keys.ts';
import { DEFAULT_TENANT } from '../../src/tenant.ts';
import { ModelPublisher } from '../../src/store/redis/model-publisher.ts';
import { packNeighbours } from '../../src/store/redis/model-format.ts';
import type { CatalogFields } from '../../src/recommend/types.ts';
import { allocateModelVersion, markPublished } from '../../src/store/pg/model-versions.ts';
import { syncUserFlags } from '../../src/privacy/flags.ts';
import { erasedSince } from '../../src/store/pg/user-locks.ts';
import { execOrThrow, queueUserWrite } from '../../src/store/redis/user-writes.ts';
import { loadCatalog, loadInteractions, loadUserLists } from './load-events.ts';
import { fitItemKnnParallel } from './parallel-knn.ts';
import { Progress } from './progress.ts';

export interface BuildOptions {
  /** The shop whose events are built into its own model version. */
  tenant: string;
  model: ModelKind;
  similarity: Similarity;
  neighbours: number;
  minSupport: number;
  halfLifeDays: number;
  easeLambda: number;
  easeMaxItems: number;
  workers: number;
  /** Items kept in each popularity list (overall, per category, per brand). */
  listLength: number;
  publishPauseMs: number;
  /** Rewrite every user's recently-viewed and bought keys from PostgreSQL. */
  syncUsers: boolean;
  /** How long to wait for another build's lock (0: fail at once, saying when it lapses). */
  lockWaitMs: number;
  quiet: boolean;
}

export interface BuildSummary {
  version: number;
  previousVersion: number | null;
  model: string;
  events: number;
  users: number;
  items: number;
  catalogItems: number;
  neighbourPairs: number;
  keysWritten: number;
  userKeysWritten: number;
  seconds: Record<'load' | 'model' | 'popularity' | 'publish' | 'users' | 'total', number>;
  peakRssMiB: number;
}

export function buildOptionsFromConfig(config: Config): BuildOptions {
  return {
    tenant: DEFAULT_TENANT, model: config.build.model, similarity: config.build.similarity, neighbours: config.build.neighbours,
    minSupport: config.build.minSupport, halfLifeDays: config.build.halfLifeDays, easeLambda: config.build.easeLambda,
    easeMaxItems: config.build.easeMaxItems, workers: config.build.workers, listLength: config.build.listLength,
    publishPauseMs: config.build.publishPauseMs, syncUsers: true, lockWaitMs: 0, quiet: false,
  };
}

function fitModel(x: Interactions, o: BuildOptions, progress: Progress): Promise<NeighbourLists> | NeighbourLists {
  if (o.model === 'ease') return fitEase(x, { lambda: o.easeLambda, maxItems: o.easeMaxItems, k: o.neighbours });
  // Decay needs the weighted matrix; LLR is defined on counts only, so it stays unweighted.
  const weighted = o.halfLifeDays > 0 && o.similarity !== 'llr';
  const knn = { similarity: o.similarity, k: o.neighbours, minSupport: o.minSupport, weighted, halfLifeDays: o.halfLifeDays, now: latestTime(x) };
  progress.setTotal(x.itemIds.length);
  return fitItemKnnParallel(x.itemIds, prepareItemKnn(x, knn), knn, o.workers, (done) => { if (!o.quiet) progress.update(done); });
}

/**
 * ZADD arguments of a ranked list, scored by *negative* popularity: read in ascending order
 * (ZRANGE), equal scores then come smaller id first, the tie-break of the whole model.
 */
function zaddArgs(list: RankedItems): (string | number)[] {
  return list.ids.flatMap((id, i) => [-list.scores[i], id]);
}

function groupMap(catalog: Map<string, CatalogFields>, field: 'brand' | 'category'): Map<string, string> {
  const groups = new Map<string, string>();
  for (const item of catalog.values()) if (item[field] !== null) groups.set(item.id, item[field]!);
  return groups;
}

/** An item with events but no catalog row still gets a record: the block can show its id. */
function catalogFields(id: string, item: CatalogFields | undefined): CatalogFields {
  return item ?? { id, title: null, brand: null, category: null, price: null, currency: null, url: null, image_url: null, in_stock: true };
}

export async function buildModel(pool: pg.Pool, redis: Redis, config: Config, o: BuildOptions): Promise<BuildSummary> {
  const keys = redisKeys(config.redisPrefix, o.tenant);
  await ensureTenant(pool, o.tenant);
  const started = performance.now();
  const seconds = { load: 0, model: 0, popularity: 0, publish: 0, users: 0, total: 0 };
  const stage = async <T>(name: keyof typeof seconds, unit: string, run: (p: Progress) => Promise<T> | T, count?: (r: T) => number): Promise<T> => {
    const progress = new Progress(`build ${name}`, 0, unit);
    const t0 = performance.now();
    const result = await run(progress);
    seconds[name] = (performance.now() - t0) / 1000;
    if (!o.quiet) progress.finish(count ? count(result) : 0);
    return result;
  };

  const [x, catalog] = await stage('load', 'events', (p) => Promise.all([
    loadInteractions(pool, o.tenant, config.eventWeights, (rows) => { if (!o.quiet) p.update(rows); }),
    loadCatalog(pool, o.tenant),
  ]), ([interactions]) => interactions.users.length);

  const model = await stage('model', 'items', (p) => fitModel(x, o, p), (m) => m.itemIds.length);

  // Popularity lists hold items with events only: a product nobody touched is no recommendation.
  const lists = await stage('popularity', 'items', () => {
    const popularity = itemPopularity(x, { halfLifeDays: o.halfLifeDays, now: latestTime(x) });
    return {
      overall: rankItems(popularity, x.itemIds, o.listLength),
      byCategory: rankByGroup(popularity, x.itemIds, groupMap(catalog, 'category'), o.listLength),
      byBrand: rankByGroup(popularity, x.itemIds, groupMap(catalog, 'brand'), o.listLength),
    };
  }, (l) => l.overall.ids.length);

  const publisher = await ModelPublisher.begin(redis, keys, {
    oldVersionTtlSeconds: config.build.oldVersionTtlSeconds, pauseMs: o.publishPauseMs,
    batchSize: config.build.publishBatch, lockTtlMs: config.build.lockTtlMs,
  }, (atLeast) => allocateModelVersion(pool, o.tenant, atLeast), o.lockWaitMs);
  const v = publisher.version;
  let previousVersion: number | null = null;
  try {
    await stage('publish', 'keys', async (p) => {
      const allIds = new Set([...catalog.keys(), ...x.itemIds]);
      p.setTotal(allIds.size * 2);
      for (const id of allIds) {
        await publisher.add((r) => r.set(keys.item(v, id), JSON.stringify(catalogFields(id, catalog.get(id)))));
        if (!o.quiet) p.update(publisher.keysWritten);
      }
      for (let i = 0; i < model.itemIds.length; i++) {
        if (model.offsets[i + 1] === model.offsets[i]) continue;
        await publisher.add((r) => r.set(keys.neighbours(v, model.itemIds[i]), packNeighbours(model, i)));
        if (!o.quiet) p.update(publisher.keysWritten);
      }
      if (lists.overall.ids.length) await publisher.add((r) => r.zadd(keys.popular(v), ...zaddArgs(lists.overall)));
      for (const [category, list] of lists.byCategory) await publisher.add((r) => r.zadd(keys.popular(v, category), ...zaddArgs(list)));
      for (const [brand, list] of lists.byBrand) await publisher.add((r) => r.zadd(keys.brand(v, brand), ...zaddArgs(list)));
      await publisher.add((r) => r.set(keys.meta(v), JSON.stringify({
        version: v, layout: KEY_LAYOUT, built_at: new Date().toISOString(), model: o.model === 'ease' ? 'ease' : `itemknn:${o.similarity}`,
        neighbours: o.neighbours, half_life_days: o.halfLifeDays, events: x.users.length, users: x.userIds.length, items: x.itemIds.length,
      })));
      previousVersion = await publisher.swap();
      await markPublished(pool, v);
      return publisher.keysWritten;
    }, (n) => n);
  } catch (err) {
    await publisher.abort();
    throw err;
  }

  let userKeysWritten = 0;
  if (o.syncUsers) {
    userKeysWritten = await stage('users', 'keys', async (p) => {
      // Opt-outs and tombstones first: a Redis that lost its data gets the lists back below, and
      // the flags that veto them must be there before them.
      const startedAt = await syncUserFlags(pool, redis, o.tenant, keys).then(() => pool.query<{ now: Date }>('SELECT now()')).then((r) => r.rows[0].now);
      const limits = { recentlyViewedCap: config.recentlyViewedCap, ttlSeconds: config.userKeyTtlSeconds };
      let written = 0;
      let pipeline = redis.pipeline();
      for await (const lists of loadUserLists(pool, o.tenant, config.recentlyViewedCap)) {
        // The script writes nothing for a user erased meanwhile (src/store/user-writes.ts).
        queueUserWrite(pipeline, keys, limits, lists, true);
        written += Number(lists.viewed.length > 0) + Number(lists.bought.length > 0);
        if (pipeline.length >= 1000) { await execOrThrow(pipeline); pipeline = redis.pipeline(); if (!o.quiet) p.update(written); }
      }
      await execOrThrow(pipeline);
      // An erasure whose Redis step ran before this stage wrote its lists is caught by the
      // scripts; one whose PostgreSQL step committed after the lists were read and whose Redis
      // step is still to come deletes them itself. Belt and braces for the window between:
      // (a minute's margin: an erasure's time is its transaction's start).
      for (const user of await erasedSince(pool, o.tenant, new Date(startedAt.getTime() - 60_000))) await redis.unlink(...keys.userKeys(user));
      return written;
    }, (n) => n);
  }

  seconds.total = (performance.now() - started) / 1000;
  return {
    version: v, previousVersion, model: o.model === 'ease' ? 'ease' : `itemknn:${o.similarity}`,
    events: x.users.length, users: x.userIds.length, items: x.itemIds.length, catalogItems: catalog.size,
    neighbourPairs: model.neighbours.length, keysWritten: publisher.keysWritten, userKeysWritten, seconds,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
