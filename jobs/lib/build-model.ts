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
import { itemPopularity } from '../../src/cf/popularity.ts';
import type { Keys } from '../../src/store/keys.ts';
import { ModelPublisher } from '../../src/store/model-publisher.ts';
import { packNeighbours, type CatalogFields } from '../../src/store/model-format.ts';
import { loadCatalog, loadInteractions, loadUserLists, type CatalogItem } from './load-events.ts';
import { fitItemKnnParallel } from './parallel-knn.ts';
import { Progress } from './progress.ts';

export interface BuildOptions {
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
    model: config.build.model, similarity: config.build.similarity, neighbours: config.build.neighbours,
    minSupport: config.build.minSupport, halfLifeDays: config.build.halfLifeDays, easeLambda: config.build.easeLambda,
    easeMaxItems: config.build.easeMaxItems, workers: config.build.workers, listLength: config.build.listLength,
    publishPauseMs: config.build.publishPauseMs, syncUsers: true, quiet: false,
  };
}

function fitModel(x: Interactions, o: BuildOptions, progress: Progress): Promise<NeighbourLists> | NeighbourLists {
  if (o.model === 'ease') return fitEase(x, { lambda: o.easeLambda, maxItems: o.easeMaxItems, k: o.neighbours });
  const knn = { similarity: o.similarity, k: o.neighbours, minSupport: o.minSupport, weighted: o.halfLifeDays > 0, halfLifeDays: o.halfLifeDays, now: latestTime(x) };
  progress.setTotal(x.itemIds.length);
  return fitItemKnnParallel(x.itemIds, prepareItemKnn(x, knn), knn, o.workers, (done) => { if (!o.quiet) progress.update(done); });
}

/** Top `length` entries of `ids` by `score` (desc, then id), as ZADD arguments. */
function ranked(ids: string[], score: (id: string) => number, length: number): (string | number)[] {
  const top = ids.map((id) => [id, score(id)] as const)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, length);
  return top.flatMap(([id, s]) => [s, id]);
}

function groupBy(ids: Iterable<string>, key: (id: string) => string | null): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const k = key(id);
    if (k === null) continue;
    const list = groups.get(k);
    if (list) list.push(id); else groups.set(k, [id]);
  }
  return groups;
}

function catalogFields(id: string, item: CatalogItem | undefined): CatalogFields {
  return {
    id, title: item?.title ?? null, brand: item?.brand ?? null, category: item?.category ?? null, price: item?.price ?? null,
    currency: item?.currency ?? null, url: item?.url ?? null, image_url: item?.image_url ?? null, in_stock: item?.in_stock ?? true,
  };
}

export async function buildModel(pool: pg.Pool, redis: Redis, keys: Keys, config: Config, o: BuildOptions): Promise<BuildSummary> {
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
    loadInteractions(pool, config.eventWeights, (rows) => { if (!o.quiet) p.update(rows); }),
    loadCatalog(pool),
  ]), ([interactions]) => interactions.users.length);

  const model = await stage('model', 'items', (p) => fitModel(x, o, p), (m) => m.itemIds.length);

  const popularity = await stage('popularity', 'items', () => {
    const values = itemPopularity(x, { halfLifeDays: o.halfLifeDays, now: latestTime(x) });
    return new Map(x.itemIds.map((id, i) => [id, values[i]]));
  }, (m) => m.size);
  const pop = (id: string) => popularity.get(id) ?? 0;

  const publisher = await ModelPublisher.begin(redis, keys, {
    oldVersionTtlSeconds: config.build.oldVersionTtlSeconds, pauseMs: o.publishPauseMs,
  });
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
      const ids = [...allIds];
      if (ids.length) await publisher.add((r) => r.zadd(keys.popular(v), ...ranked(ids, pop, o.listLength)));
      for (const [category, members] of groupBy(ids, (id) => catalog.get(id)?.category ?? null)) {
        await publisher.add((r) => r.zadd(keys.popular(v, category), ...ranked(members, pop, o.listLength)));
      }
      for (const [brand, members] of groupBy(ids, (id) => catalog.get(id)?.brand ?? null)) {
        await publisher.add((r) => r.zadd(keys.brand(v, brand), ...ranked(members, pop, o.listLength)));
      }
      await publisher.add((r) => r.set(keys.meta(v), JSON.stringify({
        version: v, built_at: new Date().toISOString(), model: o.model === 'ease' ? 'ease' : `itemknn:${o.similarity}`,
        neighbours: o.neighbours, half_life_days: o.halfLifeDays, events: x.users.length, users: x.userIds.length, items: x.itemIds.length,
      })));
      previousVersion = await publisher.swap();
      return publisher.keysWritten;
    }, (n) => n);
  } catch (err) {
    await publisher.abort();
    throw err;
  }

  let userKeysWritten = 0;
  if (o.syncUsers) {
    userKeysWritten = await stage('users', 'keys', async (p) => {
      let written = 0;
      let pipeline = redis.pipeline();
      for await (const { user, viewed, bought } of loadUserLists(pool, config.recentlyViewedCap)) {
        if (viewed.length) {
          // GT keeps a newer view the API recorded while the build ran.
          pipeline.zadd(keys.recentlyViewed(user), 'GT', ...viewed.flatMap(([item, ms]) => [ms, item]));
          pipeline.zremrangebyrank(keys.recentlyViewed(user), 0, -(config.recentlyViewedCap + 1));
          pipeline.expire(keys.recentlyViewed(user), config.userKeyTtlSeconds);
          written++;
        }
        if (bought.length) {
          pipeline.sadd(keys.bought(user), ...bought);
          pipeline.expire(keys.bought(user), config.userKeyTtlSeconds);
          written++;
        }
        if (pipeline.length >= 3000) { await pipeline.exec(); pipeline = redis.pipeline(); if (!o.quiet) p.update(written); }
      }
      await pipeline.exec();
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
