// The tenants table: every row of every other table names one of these.
import type pg from 'pg';
import { checkTenantId } from '../../tenant.ts';

/** Creates the tenant if it is new (a key, an import or a build may be its first mention). */
export async function ensureTenant(db: Pick<pg.Pool, 'query'>, tenant: string): Promise<void> {
  await db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [checkTenantId(tenant)]);
}

export async function listTenants(db: Pick<pg.Pool, 'query'>): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM tenants ORDER BY id');
  return rows.map((r) => r.id);
}
