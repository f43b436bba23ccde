// PostgreSQL adapter of src/experiments: definitions, status changes, exposure batches and the
// per-variant totals the report is computed from. SQL only; the rules live in src/experiments.
import type pg from 'pg';
import { linkJoin, personOf } from './identities.ts';
import { erasedAmong, writeAsUsers } from './user-locks.ts';
import { DEFAULT_HASH_VERSION, type Experiment, type ExperimentDefinition, type HashVersion, type Status, type Variant } from '../../experiments/definition.ts';
import type { Exposure } from '../../experiments/exposure-writer.ts';
import type { VariantTotals } from '../../experiments/totals.ts';
import type { Audience } from '../../lifecycle/audiences.ts';

/** What the adapter needs of a pool (a pool, a client, or a wrapper that counts queries). */
export type Db = Pick<pg.Pool, 'query'>;

interface ExperimentRow {
  id: string;
  name: string | null;
  salt: string;
  hash_version: HashVersion;
  coverage: number;
  variants: Variant[];
  audience: Audience | null;
  status: Status;
  created_at: Date;
  started_at: Date | null;
  stopped_at: Date | null;
}

const COLUMNS = 'id, name, salt, hash_version, coverage, variants, audience, status, created_at, started_at, stopped_at';

function toExperiment(r: ExperimentRow): Experiment {
  return {
    id: r.id,
    name: r.name,
    salt: r.salt,
    hashVersion: r.hash_version,
    coverage: r.coverage,
    variants: r.variants,
    audience: r.audience,
    status: r.status,
    createdAt: r.created_at,
    startedAt: r.started_at,
    stoppedAt: r.stopped_at,
  };
}

/** Stores a new draft; null when the id is taken. */
export async function insertExperiment(db: Db, tenant: string, def: ExperimentDefinition): Promise<Experiment | null> {
  const { rows } = await db.query<ExperimentRow>(
    `INSERT INTO experiments (tenant_id, id, name, salt, hash_version, coverage, variants, audience) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (tenant_id, id) DO NOTHING RETURNING ${COLUMNS}`,
    [tenant, def.id, def.name, def.salt, def.hashVersion ?? DEFAULT_HASH_VERSION, def.coverage, JSON.stringify(def.variants), def.audience ? JSON.stringify(def.audience) : null],
  );
  return rows[0] ? toExperiment(rows[0]) : null;
}

export async function findExperiment(db: Db, tenant: string, id: string): Promise<Experiment | null> {
  const { rows } = await db.query<ExperimentRow>(`SELECT ${COLUMNS} FROM experiments WHERE tenant_id = $1 AND id = $2`, [tenant, id]);
  return rows[0] ? toExperiment(rows[0]) : null;
}

/** Newest first. */
export async function listExperiments(db: Db, tenant: string): Promise<Experiment[]> {
  const { rows } = await db.query<ExperimentRow>(`SELECT ${COLUMNS} FROM experiments WHERE tenant_id = $1 ORDER BY created_at DESC, id`, [tenant]);
  return rows.map(toExperiment);
}

/**
 * Moves an experiment from one status to the next and stamps the time; null when it was not in
 * `from` any more (a concurrent start or stop won), so two callers can never both succeed.
 */
export async function updateStatus(db: Db, tenant: string, id: string, from: Status, to: Status): Promise<Experiment | null> {
  const { rows } = await db.query<ExperimentRow>(
    `UPDATE experiments SET status = $3,
       started_at = CASE WHEN $3 = 'running' THEN now() ELSE started_at END,
       stopped_at = CASE WHEN $3 = 'stopped' THEN now() ELSE stopped_at END
     WHERE tenant_id = $4 AND id = $1 AND status = $2 RETURNING ${COLUMNS}`,
    [id, from, to, tenant],
  );
  return rows[0] ? toExperiment(rows[0]) : null;
}

/**
 * One multi-row INSERT per tenant of the batch (the rows travel as one JSON parameter, which also
 * carries the per-row item arrays), holding the users' locks: an erased user gets no exposure,
 * even one racing their erasure (src/store/pg/user-locks.ts). A request already recorded is
 * skipped; returns rows inserted.
 */
export async function insertExposures(pool: pg.Pool, exposures: readonly Exposure[]): Promise<number> {
  const byTenant = new Map<string, Exposure[]>();
  for (const e of exposures) {
    const batch = byTenant.get(e.tenant);
    if (batch === undefined) byTenant.set(e.tenant, [e]);
    else batch.push(e);
  }
  let inserted = 0;
  for (const [tenant, batch] of byTenant) inserted += await insertTenantExposures(pool, tenant, batch);
  return inserted;
}

function insertTenantExposures(pool: pg.Pool, tenant: string, exposures: readonly Exposure[]): Promise<number> {
  const users = exposures.map((e) => e.userId);
  return writeAsUsers(pool, tenant, users, async (tx) => {
    const erased = await erasedAmong(tx, tenant, users);
    const rows = exposures
      .filter((e) => !erased.has(e.userId))
      .map((e) => ({
        experiment_id: e.experimentId,
        variant: e.variant,
        user_id: e.userId,
        request_id: e.requestId,
        strategy: e.strategy,
        items: e.items,
        exposed_at: e.exposedAt.toISOString(),
      }));
    if (rows.length === 0) return 0;
    const result = await tx.query(
      `INSERT INTO exposures (tenant_id, experiment_id, variant, user_id, request_id, strategy, items, exposed_at)
       SELECT $2, experiment_id, variant, user_id, request_id, strategy, items, exposed_at
       FROM jsonb_to_recordset($1::jsonb) AS r(experiment_id text, variant text, user_id text, request_id text,
                                              strategy text, items text[], exposed_at timestamptz)
       ON CONFLICT (tenant_id, experiment_id, request_id) DO NOTHING`,
      [JSON.stringify(rows), tenant],
    );
    return result.rowCount ?? 0;
  });
}

/**
 * Attribution: a click or purchase is credited to an exposure's user (and their variant) when it
 * carries that exposure's request_id (at any time); otherwise to the user of its own when made in
 * [their first exposure, first exposure + window). Each event counts once, and
 * a click link followed again (each time stored as a click) counts once per request and item.
 * Revenue is quantity × price (price is the unit price; a purchase without one adds no revenue),
 * in the currency of the purchased item's catalog entry: amounts of different currencies never add up.
 * `bySegment`: totals per variant and RFM segment, a user's segment being the one the lifecycle
 * builds gave them last before their first exposure (lifecycle_segment_changes), so a variant
 * that moves its users to another segment does not move them out of the row they started in;
 * null: no profile then.
 * A visitor is a customer with every id linked to them (docs/identity.md): exposures, clicks and
 * purchases under any of their ids count for them, in the variant of their first exposure (the
 * one they keep), whichever id it was made under.
 */
export async function variantTotals(db: Db, tenant: string, experimentId: string, windowSeconds: number, bySegment = false): Promise<VariantTotals[]> {
  const { rows } = await db.query<VariantTotals & { segment: string }>(
    `WITH exposed_ids AS (
       SELECT ${personOf('x')} AS user_id, x.variant, x.request_id, x.exposed_at, cardinality(x.items) AS shown
       FROM exposures x ${linkJoin('x')} WHERE x.tenant_id = $3 AND x.experiment_id = $1
     ), first_seen AS (
       SELECT DISTINCT ON (user_id) user_id, variant, exposed_at FROM exposed_ids ORDER BY user_id, exposed_at, request_id
     ), first_exposure AS (
       SELECT f.user_id, f.variant, f.exposed_at, coalesce(CASE WHEN $4 THEN (
         SELECT c.to_segment FROM lifecycle_segment_changes c WHERE c.tenant_id = $3 AND c.user_id = f.user_id AND c.changed_at <= f.exposed_at
         ORDER BY c.changed_at DESC LIMIT 1) END, '') AS segment
       FROM first_seen f
     ), exposed AS (
       SELECT f.variant, f.segment, e.user_id, e.request_id, e.exposed_at, e.shown
       FROM exposed_ids e JOIN first_exposure f USING (user_id)
     ), credited AS (
       SELECT x.variant, x.segment, x.user_id, ev.id, ev.type, ev.request_id, ev.item_id, ev.quantity * coalesce(ev.price, 0) AS revenue
       FROM events ev JOIN exposed x ON x.request_id = ev.request_id
       WHERE ev.tenant_id = $3 AND ev.type IN ('click', 'purchase')
       UNION ALL
       SELECT f.variant, f.segment, f.user_id, ev.id, ev.type, ev.request_id, ev.item_id, ev.quantity * coalesce(ev.price, 0)
       FROM events ev ${linkJoin('ev')} JOIN first_exposure f ON f.user_id = ${personOf('ev')}
       WHERE ev.tenant_id = $3 AND ev.type IN ('click', 'purchase')
         AND ev.occurred_at >= f.exposed_at AND ev.occurred_at < f.exposed_at + make_interval(secs => $2)
         AND (ev.request_id IS NULL OR NOT EXISTS (SELECT 1 FROM exposed x WHERE x.request_id = ev.request_id))
     ), clicks AS (
       SELECT variant, segment, count(DISTINCT (request_id, item_id, CASE WHEN request_id IS NULL THEN id END))::int AS clicks
       FROM credited WHERE type = 'click' GROUP BY variant, segment
     ), converters AS (
       SELECT variant, segment, count(DISTINCT user_id)::int AS converters FROM credited WHERE type = 'purchase' GROUP BY variant, segment
     ), spent AS (
       SELECT c.variant, c.segment, c.user_id, p.currency, sum(c.revenue)::float8 AS revenue
       FROM credited c LEFT JOIN products p ON p.tenant_id = $3 AND p.id = c.item_id
       WHERE c.type = 'purchase' GROUP BY c.variant, c.segment, c.user_id, p.currency
     ), revenue AS (
       SELECT variant, segment, json_agg(json_build_object('currency', currency, 'values', spenders) ORDER BY currency NULLS LAST) AS revenue
       FROM (SELECT variant, segment, currency, array_agg(revenue ORDER BY revenue) AS spenders FROM spent WHERE revenue <> 0 GROUP BY variant, segment, currency) s
       GROUP BY variant, segment
     ), visitors AS (
       SELECT variant, segment, count(DISTINCT user_id)::int AS visitors, count(*)::int AS exposures, sum(shown)::int AS impressions
       FROM exposed GROUP BY variant, segment
     )
     SELECT v.variant, v.segment, v.visitors, v.exposures, v.impressions, coalesce(c.clicks, 0) AS clicks,
            coalesce(k.converters, 0) AS converters, coalesce(r.revenue, '[]') AS revenue
     FROM visitors v LEFT JOIN clicks c USING (variant, segment) LEFT JOIN converters k USING (variant, segment) LEFT JOIN revenue r USING (variant, segment)
     ORDER BY v.variant, v.segment`,
    [experimentId, windowSeconds, tenant, bySegment],
  );
  return bySegment ? rows.map((r) => ({ ...r, segment: r.segment === '' ? null : r.segment })) : rows.map(({ segment: _segment, ...r }) => r);
}
