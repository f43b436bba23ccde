// Model version numbers (src/store/pg/migrations/006_model_versions.sql).
import type pg from 'pg';

/**
 * A new version number (one sequence for every tenant: a number names one build anywhere), greater than `atLeast` too: an install upgraded from numbers kept in
 * Redis carries on above the last one it used there.
 */
export async function allocateModelVersion(pool: Pick<pg.Pool, 'query'>, tenant: string, atLeast: number): Promise<number> {
  const { rows } = await pool.query<{ version: number }>(
    `WITH next AS (SELECT setval('model_version_seq', GREATEST(nextval('model_version_seq'), $1::bigint)) AS version)
     INSERT INTO model_versions (tenant_id, version) SELECT $2, version FROM next RETURNING version`,
    [atLeast, tenant],
  );
  return rows[0].version;
}

export async function markPublished(pool: Pick<pg.Pool, 'query'>, version: number): Promise<void> {
  await pool.query('UPDATE model_versions SET published_at = now() WHERE version = $1', [version]);
}
