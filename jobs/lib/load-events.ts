// Reads the build's input out of PostgreSQL: weighted interactions of users who allow
// personalisation, the catalog, and the per-user lists the API mirrors in Redis.
import type pg from 'pg';
import type { EventType } from '../../src/config.ts';
import { collectInteractions, type InteractionRecord, type Interactions } from '../../src/cf/interactions.ts';
import { copyOut } from '../../src/store/copy-out.ts';

/** Users whose events must not shape anyone's recommendations (opted out or erased). */
const EXCLUDED_USERS = `SELECT id FROM users WHERE personalization_opt_out OR deleted_at IS NOT NULL`;

export async function loadInteractions(
  pool: pg.Pool,
  eventWeights: Record<EventType, number>,
  onRow?: (rows: number) => void,
): Promise<Interactions> {
  const types = (Object.keys(eventWeights) as EventType[]).filter((t) => eventWeights[t] > 0);
  const client = await pool.connect();
  try {
    const query = `SELECT e.user_id, e.item_id, e.type, e.weight, extract(epoch FROM e.occurred_at)::float8
      FROM events e WHERE e.type IN (${types.map((t) => `'${t}'`).join(', ') || 'NULL'})
      AND e.user_id NOT IN (${EXCLUDED_USERS})`;
    let rows = 0;
    async function* records(): AsyncIterable<InteractionRecord> {
      for await (const [user, item, type, weight, ts] of copyOut(client, query)) {
        if (++rows % 50_000 === 0) onRow?.(rows);
        yield { user: user!, item: item!, type: type as EventType, weight: weight === null ? undefined : Number(weight), ts: Number(ts) };
      }
    }
    return await collectInteractions(records(), eventWeights);
  } finally {
    client.release();
  }
}

export interface CatalogItem {
  id: string;
  title: string | null;
  brand: string | null;
  category: string | null;
  price: number | null;
  currency: string | null;
  url: string | null;
  image_url: string | null;
  in_stock: boolean;
}

export async function loadCatalog(pool: pg.Pool): Promise<Map<string, CatalogItem>> {
  const client = await pool.connect();
  try {
    const catalog = new Map<string, CatalogItem>();
    const rows = copyOut(client, 'SELECT id, title, brand, category, price, currency, url, image_url, in_stock FROM products');
    for await (const [id, title, brand, category, price, currency, url, image, inStock] of rows) {
      catalog.set(id!, { id: id!, title, brand, category, price: price === null ? null : Number(price), currency, url, image_url: image, in_stock: inStock === 't' });
    }
    return catalog;
  } finally {
    client.release();
  }
}

/** Each user's most recent distinct viewed items (newest first, capped) and bought items. */
export async function* loadUserLists(pool: pg.Pool, recentCap: number): AsyncIterable<{ user: string; viewed: [string, number][]; bought: string[] }> {
  const client = await pool.connect();
  try {
    const query = `SELECT user_id,
        (SELECT string_agg(item_id || chr(31) || (extract(epoch FROM t) * 1000)::bigint, chr(30) ORDER BY t DESC)
           FROM (SELECT item_id, max(occurred_at) t FROM events v WHERE v.user_id = u.user_id AND v.type = 'view'
                 GROUP BY item_id ORDER BY t DESC LIMIT ${Math.trunc(recentCap)}) r),
        (SELECT string_agg(DISTINCT item_id, chr(30)) FROM events p WHERE p.user_id = u.user_id AND p.type = 'purchase')
      FROM (SELECT DISTINCT user_id FROM events WHERE type IN ('view', 'purchase')) u
      WHERE u.user_id NOT IN (SELECT id FROM users WHERE deleted_at IS NOT NULL)`;
    for await (const [user, viewed, bought] of copyOut(client, query)) {
      yield {
        user: user!,
        viewed: viewed ? viewed.split('\x1e').map((pair) => { const [item, ms] = pair.split('\x1f'); return [item, Number(ms)] as [string, number]; }) : [],
        bought: bought ? bought.split('\x1e') : [],
      };
    }
  } finally {
    client.release();
  }
}
