// Reads the build's input out of PostgreSQL: weighted interactions of users who allow
// personalisation (an event of a linked id counted for its customer, docs/identity.md) and the
// catalog. The per-user lists the API mirrors in Redis: src/store/pg/user-lists.ts.
import type pg from 'pg';
import type { EventType } from '../../src/config.ts';
import { collectInteractions, type InteractionRecord, type Interactions } from '../../src/cf/interactions.ts';
import { copyOut } from '../../src/store/pg/copy-out.ts';
import { linkJoin, personOf } from '../../src/store/pg/identities.ts';
import type { ModelSpec } from '../../src/model/model.ts';
import type { CatalogFields } from '../../src/recommend/types.ts';
import { DAY_MS } from '../../src/lib/time.ts';

/**
 * Users whose events must not shape anyone's recommendations (opted out or erased); $1 = the
 * tenant. Every id of a customer shares their choice (src/privacy/users.ts), so an event's own id
 * says whether its customer's events count.
 */
export const EXCLUDED_USERS = `SELECT id FROM users WHERE tenant_id = $1 AND (personalization_opt_out OR deleted_at IS NOT NULL)`;

/** What the build's decay needs of the past: events older than this many half-lives weigh under 0.1%. */
export const HALF_LIVES_READ = 10;

/**
 * Days before the newest event that the build reads (0: all). An explicit BUILD_WINDOW_DAYS
 * bounds it; so does the half-life, but only when the fit itself decays: LLR counts every event
 * in full (only its popularity lists decay), so it gets no implicit window.
 */
export function readWindowDays(spec: Pick<ModelSpec, 'model' | 'similarity' | 'weighted' | 'halfLifeDays'>, windowDays: number): number {
  const decays = spec.weighted && spec.halfLifeDays > 0 && (spec.model === 'ease' || spec.similarity !== 'llr');
  const fromDecay = decays ? HALF_LIVES_READ * spec.halfLifeDays : 0;
  if (fromDecay > 0 && windowDays > 0) return Math.min(fromDecay, windowDays);
  return fromDecay || windowDays;
}

/**
 * The instant from which events are read: `windowDays` before the tenant's newest event (not one
 * stamped in the future, which would empty the window), as a literal so PostgreSQL prunes the
 * partitions before it when it plans the query. Null: no window, or no events.
 */
export async function windowStart(pool: pg.Pool, tenant: string, types: readonly EventType[], windowDays: number): Promise<Date | null> {
  if (!(windowDays > 0) || types.length === 0) return null;
  // One backward index scan per type (tenant_id, type, occurred_at).
  const { rows } = await pool.query<{ newest: Date | null }>(
    `SELECT max(newest) AS newest FROM unnest($2::text[]) AS t (type),
       LATERAL (SELECT max(occurred_at) AS newest FROM events WHERE tenant_id = $1 AND type = t.type AND occurred_at <= now()) m`,
    [tenant, types],
  );
  const newest = rows[0]?.newest;
  return newest ? new Date(newest.getTime() - windowDays * DAY_MS) : null;
}

export async function loadInteractions(pool: pg.Pool, tenant: string, eventWeights: Record<EventType, number>, windowDays: number, onRow?: (rows: number) => void): Promise<Interactions> {
  const types = (Object.keys(eventWeights) as EventType[]).filter((t) => eventWeights[t] > 0);
  const from = await windowStart(pool, tenant, types, windowDays);
  const client = await pool.connect();
  try {
    const query = `SELECT ${personOf('e')}, e.item_id, e.type, e.weight, extract(epoch FROM e.occurred_at)::float8
      FROM events e ${linkJoin('e')} WHERE e.tenant_id = $1 AND e.type IN (${types.map((t) => `'${t}'`).join(', ') || 'NULL'})
      ${from ? `AND e.occurred_at >= '${from.toISOString()}'` : ''}
      AND e.user_id NOT IN (${EXCLUDED_USERS})`;
    let rows = 0;
    async function* records(): AsyncIterable<InteractionRecord> {
      for await (const [user, item, type, weight, ts] of copyOut(client, query, [tenant])) {
        if (++rows % 50_000 === 0) onRow?.(rows);
        yield { user: user!, item: item!, type: type as EventType, weight: weight === null ? undefined : Number(weight), ts: Number(ts) };
      }
    }
    return await collectInteractions(records(), eventWeights);
  } finally {
    client.release();
  }
}

export async function loadCatalog(pool: pg.Pool, tenant: string): Promise<Map<string, CatalogFields>> {
  const client = await pool.connect();
  try {
    const catalog = new Map<string, CatalogFields>();
    const rows = copyOut(client, 'SELECT id, title, brand, category, price, currency, url, image_url, in_stock FROM products WHERE tenant_id = $1', [tenant]);
    for await (const [id, title, brand, category, price, currency, url, image, inStock] of rows) {
      catalog.set(id!, { id: id!, title, brand, category, price: price === null ? null : Number(price), currency, url, image_url: image, in_stock: inStock === 't' });
    }
    return catalog;
  } finally {
    client.release();
  }
}
