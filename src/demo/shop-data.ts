// What the demo shop reads of its own catalog and customers, as a shop's backend would from its
// database: a product's page, and a few customers with a long purchase history to shop as.
import type pg from 'pg';
import type { CatalogFields } from '../recommend/types.ts';

/** What a product page shows: the catalog fields a block carries, without links or stock. */
export type Product = Pick<CatalogFields, 'id' | 'title' | 'brand' | 'category' | 'price' | 'currency'>;

type Db = Pick<pg.Pool, 'query'>;

export async function findProduct(db: Db, tenant: string, id: string): Promise<Product | null> {
  const { rows } = await db.query<Product>('SELECT id, title, brand, category, price::float8 AS price, currency FROM products WHERE tenant_id = $1 AND id = $2', [tenant, id]);
  return rows[0] ?? null;
}

/** The customers with the most purchase occasions: their pages show buy-again and for-you at their best. */
export async function sampleCustomers(db: Db, tenant: string, count: number): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>(
    `SELECT user_id FROM events WHERE tenant_id = $1 AND type = 'purchase'
     GROUP BY user_id ORDER BY count(DISTINCT occurred_at) DESC, user_id LIMIT $2`,
    [tenant, count],
  );
  return rows.map((r) => r.user_id);
}
