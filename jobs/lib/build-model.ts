// The build: PostgreSQL events → item-item model + popularity → a new Redis version, swapped
// in atomically. Stages are timed and reported; a failure at any point leaves the live
// version serving (see ModelPublisher).
import type pg from 'pg';
import type { BlendModel } from '../../src/cf/repeat/blend.ts';
import type { Config } from '../../src/config.ts';
import { fitNeighbours, modelCatalog, modelName, modelSpec, popularityLists, type ModelData, type ModelSpec, type NeighbourFit } from '../../src/model/model.ts';
import type { RepeatModel } from '../../src/recommend/types.ts';
import { syncUserFlags } from '../../src/privacy/flags.ts';
import { allocateModelVersion, markPublished } from '../../src/store/pg/model-versions.ts';
import { ensureTenant } from '../../src/store/pg/tenants.ts';
import { erasedSince } from '../../src/store/pg/user-locks.ts';
import { loadUserLists } from '../../src/store/pg/user-lists.ts';
import { KEY_LAYOUT, redisKeys } from '../../src/store/redis/keys.ts';
import { ModelPublisher } from '../../src/store/redis/model-publisher.ts';
import type { RedisClient } from '../../src/store/redis/client.ts';
import { userKeyLimits, writeActivities, type UserActivity } from '../../src/store/redis/user-writes.ts';
import { DEFAULT_TENANT } from '../../src/tenant.ts';
import { loadCatalog, loadInteractions, readWindowDays } from './load-events.ts';
import { runLifecycleStage, type LifecycleSummary } from './lifecycle-stage.ts';
import { InFlight, WRITES_IN_FLIGHT } from './in-flight.ts';
import { fitItemKnnParallel } from './parallel-knn.ts';
import { sharedInteractions } from './shared-memory.ts';
import { Progress } from './progress.ts';
import { fitRepeatInWorker } from './repeat-fit.ts';

export interface BuildOptions extends ModelSpec {
  /** The shop whose events are built into its own model version. */
  tenant: string;
  workers: number;
  publishPauseMs: number;
  /** Rewrite every user's recently-viewed and bought keys from PostgreSQL. */
  syncUsers: boolean;
  /** How long to wait for another build's lock (0: fail at once, saying when it lapses). */
  lockWaitMs: number;
  /** BUILD_WINDOW_DAYS: days of events read before the newest (0: all; a decaying fit reads less, see readWindowDays). */
  windowDays: number;
  /** Fit buy-again and the for-you blend (BUILD_REPEAT). */
  repeat: boolean;
  /** Validation users of the buy-again and blend fits at most (BUILD_FIT_USERS). */
  fitUsers: number;
  /** Customer profiles, segments and predictions (BUILD_LIFECYCLE, jobs/lib/lifecycle-stage.ts). */
  lifecycle: boolean;
  /** Where events, catalog and user lists are read (BUILD_DATABASE_URL, a replica); writes use the pool buildModel gets. */
  readPool?: pg.Pool;
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
  /** Buy-again's parameters and the blend's weights, as published (null: not fit). */
  repeat: RepeatModel | null;
  blend: BlendModel | null;
  /** Customers profiled, segment counts and moves, the BG/NBD fit (null: not run). */
  lifecycle: LifecycleSummary | null;
  seconds: Record<'load' | 'model' | 'popularity' | 'repeat' | 'blend' | 'publish' | 'lifecycle' | 'users' | 'total', number>;
  peakRssMiB: number;
}

/** The model's part of the options (what a worker thread gets: no pools). */
function specOf(o: BuildOptions): ModelSpec {
  const { model, similarity, neighbours, untruncated, minSupport, halfLifeDays, weighted, easeLambda, easeMaxItems, listLength } = o;
  return { model, similarity, neighbours, untruncated, minSupport, halfLifeDays, weighted, easeLambda, easeMaxItems, listLength };
}

export function buildOptionsFromConfig(config: Config): BuildOptions {
  return {
    ...modelSpec(config),
    tenant: DEFAULT_TENANT,
    workers: config.build.workers,
    publishPauseMs: config.build.publishPauseMs,
    syncUsers: true,
    lockWaitMs: 0,
    quiet: false,
    windowDays: config.eventStore.buildWindowDays,
    repeat: config.build.repeat,
    fitUsers: config.build.fitUsers,
    lifecycle: config.build.lifecycle,
  };
}

export async function buildModel(pool: pg.Pool, redis: RedisClient, config: Config, o: BuildOptions): Promise<BuildSummary> {
  const keys = redisKeys(config.redisPrefix, o.tenant);
  await ensureTenant(pool, o.tenant);
  const started = performance.now();
  const seconds = { load: 0, model: 0, popularity: 0, repeat: 0, blend: 0, publish: 0, lifecycle: 0, users: 0, total: 0 };
  const stage = async <T>(name: keyof typeof seconds, unit: string, run: (p: Progress) => Promise<T> | T, count?: (r: T) => number): Promise<T> => {
    const progress = new Progress(`build ${name}`, 0, unit);
    const t0 = performance.now();
    const result = await run(progress);
    seconds[name] = (performance.now() - t0) / 1000;
    if (!o.quiet) progress.finish(count ? count(result) : 0);
    return result;
  };

  const reads = o.readPool ?? pool;
  // The users' lists do not depend on the model: they are read and written from the start, beside
  // the load (one thread parsing events leaves a core to PostgreSQL's sort of the lists and to
  // Redis) and the model's workers, and awaited before the publish.
  const usersWritten: Promise<number> = o.syncUsers
    ? stage(
        'users',
        'keys',
        async (p) => {
          // Opt-outs and tombstones first: a Redis that lost its data gets the lists back below, and
          // the flags that veto them must be there before them.
          const startedAt = await syncUserFlags(pool, redis, o.tenant, keys)
            .then(() => pool.query<{ now: Date }>('SELECT now()'))
            .then((r) => r.rows[0].now);
          const limits = userKeyLimits(config);
          let written = 0;
          let batch: UserActivity[] = [];
          const writes = new InFlight(WRITES_IN_FLIGHT);
          // Lists are per customer (a linked id's events are theirs); the script writes nothing for a
          // user erased meanwhile, and a customer's for an id linked after the read (user-writes.ts).
          for await (const lists of loadUserLists(reads, o.tenant, config.recentlyViewedCap)) {
            batch.push(lists);
            written += Number(lists.viewed.length > 0) + Number(lists.bought.length > 0);
            if (batch.length >= 1000) {
              await writes.add(writeActivities(redis, keys, limits, batch, true));
              batch = [];
              if (!o.quiet) p.update(written);
            }
          }
          await writes.add(writeActivities(redis, keys, limits, batch, true));
          await writes.drain();
          // An erasure whose Redis step ran before this stage wrote its lists is caught by the
          // scripts; one whose PostgreSQL step committed after the lists were read and whose Redis
          // step is still to come deletes them itself. Belt and braces for the window between:
          // (a minute's margin: an erasure's time is its transaction's start).
          for (const user of await erasedSince(pool, o.tenant, new Date(startedAt.getTime() - 60_000))) await redis.unlink(...keys.userKeys(user));
          return written;
        },
        (n) => n,
      )
    : Promise.resolve(0);
  usersWritten.catch(() => undefined); // awaited before the publish

  const [x, catalog] = await stage(
    'load',
    'events',
    async (p) => {
      const [interactions, products] = await Promise.all([
        loadInteractions(reads, o.tenant, config.eventWeights, readWindowDays(o, o.windowDays), (rows) => {
          if (!o.quiet) p.update(rows);
        }),
        loadCatalog(reads, o.tenant),
      ]);
      // Shared: the repeat fit's worker reads the events in place rather than a copy of them.
      return [sharedInteractions(interactions), products] as const;
    },
    ([interactions]) => interactions.users.length,
  );

  // Buy-again and the blend are fit on a validation split of the same events (each user's latest
  // fifth) with a model of their own, in a worker thread, from the load on: beside the model, the
  // popularity lists and the users' lists.
  const fits = o.repeat ? fitRepeatInWorker({ x, catalog, spec: specOf(o), config, fitUsers: o.fitUsers }) : Promise.resolve(undefined);
  fits.catch(() => undefined); // awaited below

  const parallel =
    (p?: Progress): NeighbourFit =>
    (itemIds, input, knn) =>
      fitItemKnnParallel(itemIds, input, knn, o.workers, (done) => {
        if (!o.quiet) p?.update(done);
      });
  const neighbours = await stage(
    'model',
    'items',
    (p) => {
      p.setTotal(x.itemIds.length);
      return fitNeighbours(x, o, parallel(p));
    },
    (m) => m.itemIds.length,
  );
  const lists = await stage(
    'popularity',
    'items',
    () => popularityLists(x, catalog, o),
    (l) => l.popular.ids.length,
  );
  const userKeysWritten = await usersWritten;
  const fitted = await fits;
  const repeat = fitted?.repeat;
  const blend = fitted?.blend;
  if (fitted !== undefined) Object.assign(seconds, fitted.seconds);

  const publisher = await ModelPublisher.begin(
    redis,
    keys,
    {
      oldVersionTtlSeconds: config.build.oldVersionTtlSeconds,
      pauseMs: o.publishPauseMs,
      batchSize: config.build.publishBatch,
      lockTtlMs: config.build.lockTtlMs,
    },
    (atLeast) => allocateModelVersion(pool, o.tenant, atLeast),
    o.lockWaitMs,
  );
  const v = publisher.version;
  let previousVersion: number | null = null;
  try {
    await stage(
      'publish',
      'keys',
      async (p) => {
        const data: ModelData = { name: modelName(o), neighbours, ...lists, catalog: modelCatalog(x, catalog), repeat, blend };
        p.setTotal(data.catalog.size * 2);
        await publisher.publishModel(
          data,
          {
            layout: KEY_LAYOUT,
            built_at: new Date().toISOString(),
            model: data.name,
            neighbours: o.neighbours,
            half_life_days: o.halfLifeDays,
            events: x.users.length,
            users: x.userIds.length,
            items: x.itemIds.length,
          },
          (written) => {
            if (!o.quiet) p.update(written);
          },
        );
        previousVersion = await publisher.swap();
        await markPublished(pool, v);
        return publisher.keysWritten;
      },
      (n) => n,
    );
  } catch (err) {
    await publisher.abort();
    throw err;
  }

  const lifecycle = o.lifecycle
    ? await stage(
        'lifecycle',
        'customers',
        () =>
          runLifecycleStage({
            pool,
            reads,
            redis,
            keys,
            tenant: o.tenant,
            version: v,
            interactions: x,
            repeat,
            ttlSeconds: config.userKeyTtlSeconds,
          }),
        (l) => l.customers,
      )
    : undefined;

  seconds.total = (performance.now() - started) / 1000;
  return {
    version: v,
    previousVersion,
    model: modelName(o),
    events: x.users.length,
    users: x.userIds.length,
    items: x.itemIds.length,
    catalogItems: catalog.size,
    neighbourPairs: neighbours.neighbours.length,
    keysWritten: publisher.keysWritten,
    userKeysWritten,
    seconds,
    repeat: repeat?.model ?? null,
    blend: blend ?? null,
    lifecycle: lifecycle ?? null,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
