// The last resort of an email block: the catalog's best sellers by distinct buyers, read from
// PostgreSQL (not Redis), so a block can still be filled when no model is live or Redis is down
// or slow. Read at most once per interval and kept; a failed read keeps the last list.
import type { Db } from './experiments.ts';
import type { FallbackCatalog, PopularItem } from '../../email/blocks.ts';
import type { CatalogFields } from '../../recommend/types.ts';


const LIST_LENGTH = 500;
// After a failed read: soon enough to recover quickly, rare enough not to hammer a sick database.
const RETRY_MS = 5000;

export class PopularFallback implements FallbackCatalog {
  private list: PopularItem[] = [];
  private readAt = -Infinity;
  private reading: Promise<PopularItem[]> | null = null;

  constructor(private readonly db: Db, private readonly tenant: string, private readonly ttlMs: number, private readonly onError: (err: Error) => void = () => undefined) {}

  /** Best first; empty only when the database has never answered. */
  items(): Promise<PopularItem[]> {
    if (performance.now() - this.readAt < this.ttlMs) return Promise.resolve(this.list);
    this.reading ??= this.read().finally(() => { this.reading = null; });
    return this.reading;
  }

  private async read(): Promise<PopularItem[]> {
    try {
      const { rows } = await this.db.query<CatalogFields & { buyers: number }>(
        `SELECT p.id, p.title, p.brand, p.category, p.price::float8 AS price, p.currency, p.url, p.image_url, p.in_stock, t.buyers
         FROM (SELECT item_id, count(DISTINCT user_id)::int AS buyers FROM events WHERE tenant_id = $2 AND type = 'purchase'
               GROUP BY item_id ORDER BY buyers DESC, item_id LIMIT $1) t
         JOIN products p ON p.tenant_id = $2 AND p.id = t.item_id
         ORDER BY t.buyers DESC, p.id`,
        [LIST_LENGTH, this.tenant],
      );
      this.list = rows.map(({ buyers, ...fields }) => ({ fields, buyers }));
      this.readAt = performance.now();
    } catch (err) {
      // Keep the last list, and try again shortly rather than at every request.
      this.onError(err as Error);
      this.readAt = performance.now() - this.ttlMs + Math.min(this.ttlMs, RETRY_MS);
    }
    return this.list;
  }
}
