// The tenants table: every row of every other table names one of these.
import type pg from 'pg';
import { Refreshing } from '../../lib/refreshing.ts';
import type { LinkTemplates } from '../../recommend/links.ts';
import { checkTenantId } from '../../tenant.ts';

/** Creates the tenant if it is new (a key, an import or a build may be its first mention). */
export async function ensureTenant(db: Pick<pg.Pool, 'query'>, tenant: string): Promise<void> {
  await db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [checkTenantId(tenant)]);
}

export async function listTenants(db: Pick<pg.Pool, 'query'>): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM tenants ORDER BY id');
  return rows.map((r) => r.id);
}

/** A tenant's own link templates; null: the server's default. */
export interface TenantLinkSettings {
  product: string | null;
  image: string | null;
}

export async function readTenantLinks(db: Pick<pg.Pool, 'query'>, tenant: string): Promise<TenantLinkSettings> {
  const { rows } = await db.query<{ product: string | null; image: string | null }>('SELECT product_url_template AS product, image_url_template AS image FROM tenants WHERE id = $1', [tenant]);
  return rows[0] ?? { product: null, image: null };
}

/** Sets the templates given (undefined: unchanged; null: back to the server's default). */
export async function setTenantLinks(db: Pick<pg.Pool, 'query'>, tenant: string, links: Partial<TenantLinkSettings>): Promise<TenantLinkSettings> {
  await ensureTenant(db, tenant);
  const { rows } = await db.query<TenantLinkSettings>(
    `UPDATE tenants SET product_url_template = CASE WHEN $2 THEN $3 ELSE product_url_template END,
                        image_url_template = CASE WHEN $4 THEN $5 ELSE image_url_template END
     WHERE id = $1 RETURNING product_url_template AS product, image_url_template AS image`,
    [tenant, links.product !== undefined, links.product ?? null, links.image !== undefined, links.image ?? null],
  );
  return rows[0];
}

/**
 * The tenant's templates over `defaults`, re-read every `ttlMs`. The same object while they do
 * not change: caches of answers built with them key on it.
 */
export function tenantLinkTemplates(db: Pick<pg.Pool, 'query'>, tenant: string, defaults: LinkTemplates, ttlMs: number, onError: (err: Error) => void): Refreshing<LinkTemplates> {
  return new Refreshing(
    defaults,
    async (last) => {
      const own = await readTenantLinks(db, tenant);
      const product = own.product ?? defaults.product;
      const image = own.image ?? defaults.image;
      return product === last.product && image === last.image ? last : Object.freeze({ product, image });
    },
    ttlMs,
    onError,
  );
}
