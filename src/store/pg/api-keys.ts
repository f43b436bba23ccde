// API keys in PostgreSQL: only the SHA-256 of a key is stored; the prefix names it.
import type pg from 'pg';
import { generateApiKey, normalizeOrigin, type Scope } from '../../auth/api-key.ts';
import type { ActiveKey } from '../../auth/key-ring.ts';
import type { Rate } from '../../auth/rate.ts';
import { ALL_TENANTS, checkTenantId, DEFAULT_TENANT } from '../../tenant.ts';
import { ensureTenant } from './tenants.ts';

export interface ApiKeySpec {
  name: string;
  /** The one tenant the key serves (default: the default tenant); an admin key: several, or ['*'] for every tenant. */
  tenants?: string[];
  scope: Scope;
  origins: string[];
  rate: Rate | null;
}

export interface ApiKeyRow extends ActiveKey {
  createdAt: Date;
  revokedAt: Date | null;
}

interface Row {
  prefix: string;
  hash: string;
  name: string;
  tenants: string[];
  scope: Scope;
  origins: string[];
  rate_limit: number | null;
  rate_window_seconds: number | null;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'prefix, hash, name, tenants, scope, origins, rate_limit, rate_window_seconds, created_at, revoked_at';

function fromRow(r: Row): ApiKeyRow {
  return {
    prefix: r.prefix,
    hash: r.hash,
    name: r.name,
    tenants: r.tenants,
    scope: r.scope,
    origins: r.origins,
    rate: r.rate_limit === null || r.rate_window_seconds === null ? null : { limit: r.rate_limit, windowSeconds: r.rate_window_seconds },
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  };
}

/** Makes and stores a key; the returned `key` is the only time the whole key exists outside its holder. */
export async function createApiKey(pool: pg.Pool, spec: ApiKeySpec): Promise<{ key: string; row: ApiKeyRow }> {
  const origins = spec.origins.map(normalizeOrigin);
  // A key in a web page is public: it may read, never write (the table checks this too).
  if (origins.length > 0 && spec.scope !== 'read') throw new Error('an origin-restricted (browser) key can only have scope read');
  const asked = spec.tenants ?? [DEFAULT_TENANT];
  if (asked.length === 0) throw new Error('a key serves at least one tenant');
  if (origins.length > 0 && asked.length > 1) throw new Error('a browser key serves one tenant');
  const tenants = asked.map((t) => (t === ALL_TENANTS ? t : checkTenantId(t)));
  for (const tenant of tenants) if (tenant !== ALL_TENANTS) await ensureTenant(pool, tenant);
  const { key, prefix, hash } = generateApiKey();
  const { rows } = await pool.query<Row>(
    `INSERT INTO api_keys (prefix, hash, name, tenants, scope, origins, rate_limit, rate_window_seconds)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [prefix, hash, spec.name, tenants, spec.scope, origins, spec.rate?.limit ?? null, spec.rate?.windowSeconds ?? null],
  );
  return { key, row: fromRow(rows[0]) };
}

export async function activeApiKeys(pool: pg.Pool): Promise<ApiKeyRow[]> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM api_keys WHERE revoked_at IS NULL`);
  return rows.map(fromRow);
}

/** Every key, revoked ones too, newest first. */
export async function listApiKeys(pool: pg.Pool): Promise<ApiKeyRow[]> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at DESC, prefix`);
  return rows.map(fromRow);
}

/** false when no active key has this prefix. */
export async function revokeApiKey(pool: pg.Pool, prefix: string): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE api_keys SET revoked_at = now() WHERE prefix = $1 AND revoked_at IS NULL', [prefix]);
  return rowCount === 1;
}
