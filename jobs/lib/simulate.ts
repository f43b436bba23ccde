// The replay simulation: the shop's past (a real data set before a cut-off) is imported and built
// by the real jobs, the real API serves, and each visitor who came back after the cut-off gets
// an email block over HTTP under a three-way experiment. When the block shows what they really
// bought next, its tracked link is followed (a click, through GET /v1/r) and the purchase is
// posted through POST /v1/events with the block's request_id and the real price and quantity.
// The experiment report then says which strategy would have earned more per visitor.
import type pg from 'pg';
import { buildApp } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import type { Report } from '../../src/experiments/report.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import type { RedisClient } from '../../src/store/redis/client.ts';
import { buildModel, buildOptionsFromConfig } from './build-model.ts';
import { importSource } from './loader.ts';
import { trainPart, userSample, type ReplayData } from './simulate-data.ts';
import { hits, recentItems, visitors, type Visitor } from './simulate-visitors.ts';
import { datasetSources, openSource, type Dataset } from './sources.ts';

export interface SimulationOptions {
  dataset: Dataset;
  dataDir?: string;
  /** Events before it train the model; purchases from it on are the visitors' real next baskets. */
  cutoff: Date;
  /** 1 = every user; n = about 1 in n (by a hash of the id). */
  sampleEvery: number;
  /** At most this many visitors (the first by id); Infinity = all. */
  maxVisitors: number;
  /** Items per email block. */
  limit: number;
  /** A visitor's last purchases before the cut-off, replayed as views: what recently-viewed shows. */
  viewsPerVisitor: number;
  experimentId: string;
  /** The email's id: a run of its own keeps blocks of an earlier run (remembered in Redis) out. */
  mailId: string;
  /** Visitors replayed at once. */
  concurrency: number;
  log: (line: string) => void;
}

export interface VariantTally {
  visitors: number;
  clicks: number;
  converters: number;
  revenue: number;
}

export interface SimulationResult {
  trainEvents: number;
  heldOutPurchases: number;
  visitors: number;
  newVisitors: number;
  seededViews: number;
  /** What the replay itself credited, per variant: the report must agree. */
  tally: Record<string, VariantTally>;
  report: Report;
  seconds: Record<'import' | 'build' | 'replay' | 'total', number>;
}

interface EmailBlock {
  request_id: string;
  variant?: string;
  items: { id: string; position: number; link: string | null }[];
}

const EVENTS_PER_POST = 1000;
const PRODUCT_PAGE = 'https://shop.example/p/{id}';

/** The three strategies of issue 5; the control is what a shop without this service would send. */
export function experimentDefinition(id: string, limit: number) {
  return {
    id,
    name: 'Email block strategy (replay)',
    variants: [
      { key: 'recently-viewed', strategy: 'recently-viewed', control: true, params: { limit } },
      { key: 'same-brand', strategy: 'same-brand', params: { limit } },
      { key: 'collaborative', strategy: 'collaborative', params: { limit } },
      { key: 'buy-again', strategy: 'buy-again', params: { limit } },
      { key: 'for-you', strategy: 'for-you', params: { limit } },
    ],
  };
}

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<T>;
}

async function postEvents(base: string, events: object[]): Promise<void> {
  for (let i = 0; i < events.length; i += EVENTS_PER_POST) {
    await call(`${base}/v1/events`, { method: 'POST', body: JSON.stringify({ events: events.slice(i, i + EVENTS_PER_POST) }) });
  }
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function eachLimited<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Runs the whole loop against `pool` and `redis`: an empty database and key prefix of its own, which it fills. */
export async function runSimulation(services: { pool: pg.Pool; redis: RedisClient }, baseConfig: Config, o: SimulationOptions): Promise<SimulationResult> {
  const started = performance.now();
  const since = (t: number) => (performance.now() - t) / 1000;
  const { pool, redis } = services;
  await migrate(pool);

  const replay: ReplayData = { purchases: [], lastBought: new Map(), trainEvents: 0 };
  const keep = userSample(o.sampleEvery);
  for (const { format, path, name } of datasetSources(o.dataset, o.dataDir)) {
    await importSource(pool, trainPart(await openSource(format, path, name), o.cutoff, keep, replay), { quiet: true });
  }
  const importSeconds = since(started);
  o.log(
    `imported ${replay.trainEvents.toLocaleString('en-US')} events before ${o.cutoff.toISOString().slice(0, 10)}; held out ${replay.purchases.length.toLocaleString('en-US')} purchase lines (${importSeconds.toFixed(1)} s)`,
  );

  const buildStarted = performance.now();
  const config: Config = { ...baseConfig, links: { ...baseConfig.links, productUrlTemplate: PRODUCT_PAGE } };
  const built = await buildModel(pool, redis, config, { ...buildOptionsFromConfig(config), quiet: true });
  const buildSeconds = since(buildStarted);
  o.log(`built model v${built.version}: ${built.items.toLocaleString('en-US')} items, ${built.neighbourPairs.toLocaleString('en-US')} neighbour pairs (${buildSeconds.toFixed(1)} s)`);

  const app = await buildApp(config, services, { logger: false });
  try {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const replayStarted = performance.now();
    const everyone = visitors(replay.purchases);
    const chosen: Visitor[] = everyone.slice(0, o.maxVisitors);

    // What each returning visitor "viewed" before the cut-off: their last purchases, at their times.
    const views = chosen.flatMap((v) =>
      recentItems(replay.lastBought.get(v.user), o.viewsPerVisitor).map(({ item, at }) => ({
        user_id: v.user,
        item_id: item,
        type: 'view',
        occurred_at: new Date(at).toISOString(),
        idempotency_key: `simulate:view:${v.user}:${item}`,
      })),
    );
    await postEvents(base, views);

    await call(`${base}/v1/experiments`, { method: 'POST', body: JSON.stringify(experimentDefinition(o.experimentId, o.limit)) });
    await call(`${base}/v1/experiments/${o.experimentId}/start`, { method: 'POST', body: '{}' });

    const tally: Record<string, VariantTally> = {};
    const purchases: object[] = [];
    let done = 0;
    await eachLimited(chosen, o.concurrency, async (visitor) => {
      const query = new URLSearchParams({ experiment: o.experimentId, user: visitor.user, mail_id: o.mailId });
      const block = await call<EmailBlock>(`${base}/v1/email/recently-viewed.json?${query}`);
      const t = (tally[block.variant!] ??= { visitors: 0, clicks: 0, converters: 0, revenue: 0 });
      t.visitors++;
      const found = hits(block.items, visitor.basket);
      for (const hit of found) {
        // The link as the email holds it, followed on this server: the click is recorded there.
        const res = await fetch(base + new URL(hit.link).pathname, { redirect: 'manual' });
        if (res.status !== 302) throw new Error(`click link answered ${res.status}`);
        t.clicks++;
        t.revenue += hit.quantity * (hit.price ?? 0);
        purchases.push({
          user_id: visitor.user,
          item_id: hit.item,
          type: 'purchase',
          quantity: hit.quantity,
          price: hit.price ?? undefined,
          request_id: block.request_id,
          idempotency_key: `simulate:purchase:${visitor.user}:${hit.item}`,
        });
      }
      if (found.length > 0) t.converters++;
      if (++done % 500 === 0) o.log(`replayed ${done.toLocaleString('en-US')} of ${chosen.length.toLocaleString('en-US')} visitors`);
    });
    await postEvents(base, purchases);

    // Exposures are written in batches off the request path: wait until all are in.
    for (let tries = 0; tries < 200; tries++) {
      const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM exposures WHERE experiment_id = $1', [o.experimentId]);
      if (rows[0].n >= chosen.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const report = await call<Report>(`${base}/v1/experiments/${o.experimentId}/report`);
    return {
      trainEvents: replay.trainEvents,
      heldOutPurchases: replay.purchases.length,
      visitors: chosen.length,
      newVisitors: chosen.filter((v) => !replay.lastBought.has(v.user)).length,
      seededViews: views.length,
      tally,
      report,
      seconds: { import: importSeconds, build: buildSeconds, replay: since(replayStarted), total: since(started) },
    };
  } finally {
    await app.close();
  }
}
