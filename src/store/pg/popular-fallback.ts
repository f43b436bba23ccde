// The last resort of an email block: the catalog's best sellers by distinct buyers, read from
// PostgreSQL (not Redis), so a block can still be filled when no model is live or Redis is down
// or slow. Read at most once per interval and kept; a failed read keeps the last list.
import type { Db } from './experiments.ts';
import type { FallbackCatalog, PopularItem } from '../../email/blocks.ts';
import { Refreshing } from '../../lib/refreshing.ts';
import type { CatalogFields } from '../../recommend/types.ts';

const LIST_LENGTH = 500;

export class PopularFallback implements FallbackCatalog {
  private readonly list: Refreshing<PopularItem[]>;

  constructor(db: Db, tenant: string, ttlMs: number, onError: (err: Error) => void = () => undefined) {
    this.list = new Refreshing<PopularItem[]>([], () => readBestSellers(db, tenant), ttlMs, onError);
  }

  /** Best first; empty only when the database has never answered. */
  items(): Promise<PopularItem[]> {
    return this.list.get();
  }
}

async function readBestSellers(db: Db, tenant: string): Promise<PopularItem[]> {
  const { rows } = await db.query<CatalogFields & { buyers: number }>(
    `SELECT p.id, p.title, p.brand, p.category, p.price::float8 AS price, p.currency, p.url, p.image_url, p.in_stock, t.buyers
     FROM (SELECT item_id, count(DISTINCT user_id)::int AS buyers FROM events WHERE tenant_id = $2 AND type = 'purchase'
           GROUP BY item_id ORDER BY buyers DESC, item_id LIMIT $1) t
     JOIN products p ON p.tenant_id = $2 AND p.id = t.item_id
     ORDER BY t.buyers DESC, p.id`,
    [LIST_LENGTH, tenant],
  );
  return rows.map(({ buyers, ...fields }) => ({ fields, buyers }));
}
