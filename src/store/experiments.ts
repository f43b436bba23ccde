// PostgreSQL adapter of src/experiments: definitions, status changes, exposure batches and the
// per-variant totals the report is computed from. SQL only; the rules live in src/experiments.
import type pg from 'pg';
import type { Experiment, ExperimentDefinition, Status, Variant } from '../experiments/definition.ts';

/** What the adapter needs of a pool (a pool, a client, or a wrapper that counts queries). */
export type Db = Pick<pg.Pool, 'query'>;

interface ExperimentRow {
  id: string;
  name: string | null;
  salt: string;
  coverage: number;
  variants: Variant[];
  status: Status;
  created_at: Date;
  started_at: Date | null;
  stopped_at: Date | null;
}

const COLUMNS = 'id, name, salt, coverage, variants, status, created_at, started_at, stopped_at';

function toExperiment(r: ExperimentRow): Experiment {
  return {
    id: r.id, name: r.name, salt: r.salt, coverage: r.coverage, variants: r.variants, status: r.status,
    createdAt: r.created_at, startedAt: r.started_at, stoppedAt: r.stopped_at,
  };
}

/** Stores a new draft; null when the id is taken. */
export async function insertExperiment(db: Db, def: ExperimentDefinition): Promise<Experiment | null> {
  const { rows } = await db.query<ExperimentRow>(
    `INSERT INTO experiments (id, name, salt, coverage, variants) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
    [def.id, def.name, def.salt, def.coverage, JSON.stringify(def.variants)],
  );
  return rows[0] ? toExperiment(rows[0]) : null;
}

export async function findExperiment(db: Db, id: string): Promise<Experiment | null> {
  const { rows } = await db.query<ExperimentRow>(`SELECT ${COLUMNS} FROM experiments WHERE id = $1`, [id]);
  return rows[0] ? toExperiment(rows[0]) : null;
}

/** Newest first. */
export async function listExperiments(db: Db): Promise<Experiment[]> {
  const { rows } = await db.query<ExperimentRow>(`SELECT ${COLUMNS} FROM experiments ORDER BY created_at DESC, id`);
  return rows.map(toExperiment);
}

/**
 * Moves an experiment from one status to the next and stamps the time; null when it was not in
 * `from` any more (a concurrent start or stop won), so two callers can never both succeed.
 */
export async function updateStatus(db: Db, id: string, from: Status, to: Status): Promise<Experiment | null> {
  const { rows } = await db.query<ExperimentRow>(
    `UPDATE experiments SET status = $3,
       started_at = CASE WHEN $3 = 'running' THEN now() ELSE started_at END,
       stopped_at = CASE WHEN $3 = 'stopped' THEN now() ELSE stopped_at END
     WHERE id = $1 AND status = $2 RETURNING ${COLUMNS}`,
    [id, from, to],
  );
  return rows[0] ? toExperiment(rows[0]) : null;
}

export interface Exposure {
  experimentId: string;
  variant: string;
  userId: string;
  requestId: string;
  strategy: string;
  /** Item ids shown, in order. */
  items: string[];
  exposedAt: Date;
}

/**
 * One multi-row INSERT for the whole batch (the rows travel as one JSON parameter, which also
 * carries the per-row item arrays). A request already recorded is skipped; returns rows inserted.
 */
export async function insertExposures(db: Db, exposures: readonly Exposure[]): Promise<number> {
  const rows = exposures.map((e) => ({
    experiment_id: e.experimentId, variant: e.variant, user_id: e.userId, request_id: e.requestId,
    strategy: e.strategy, items: e.items, exposed_at: e.exposedAt.toISOString(),
  }));
  const result = await db.query(
    `INSERT INTO exposures (experiment_id, variant, user_id, request_id, strategy, items, exposed_at)
     SELECT experiment_id, variant, user_id, request_id, strategy, items, exposed_at
     FROM jsonb_to_recordset($1::jsonb) AS r(experiment_id text, variant text, user_id text, request_id text,
                                            strategy text, items text[], exposed_at timestamptz)
     ON CONFLICT (experiment_id, request_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return result.rowCount ?? 0;
}

/** Per variant: the sufficient statistics of its visitors (see src/experiments/report.ts). */
export interface VariantTotals {
  variant: string;
  /** Distinct exposed users. */
  visitors: number;
  exposures: number;
  clicks: number;
  /** Visitors with at least one credited purchase. */
  converters: number;
  /** Credited purchase revenue (quantity × unit price), and the sum of its per-visitor squares. */
  revenue: number;
  revenueSquares: number;
}

/**
 * Attribution: a click or purchase is credited to an exposure's variant and user when it carries
 * that exposure's request_id (at any time); otherwise to the variant of the user's first exposure
 * when the user made it in [first exposure, first exposure + window). Each event counts once.
 * Revenue is quantity × price (price is the unit price; a purchase without one adds no revenue).
 */
export async function variantTotals(db: Db, experimentId: string, windowSeconds: number): Promise<VariantTotals[]> {
  const { rows } = await db.query<VariantTotals>(
    `WITH exposed AS (
       SELECT variant, user_id, request_id, exposed_at FROM exposures WHERE experiment_id = $1
     ), first_exposure AS (
       SELECT DISTINCT ON (user_id) user_id, variant, exposed_at FROM exposed ORDER BY user_id, exposed_at
     ), credited AS (
       SELECT x.variant, x.user_id, ev.type, ev.quantity * coalesce(ev.price, 0) AS revenue
       FROM events ev JOIN exposed x ON x.request_id = ev.request_id
       WHERE ev.type IN ('click', 'purchase')
       UNION ALL
       SELECT f.variant, f.user_id, ev.type, ev.quantity * coalesce(ev.price, 0)
       FROM events ev JOIN first_exposure f ON f.user_id = ev.user_id
       WHERE ev.type IN ('click', 'purchase')
         AND ev.occurred_at >= f.exposed_at AND ev.occurred_at < f.exposed_at + make_interval(secs => $2)
         AND (ev.request_id IS NULL OR NOT EXISTS (SELECT 1 FROM exposed x WHERE x.request_id = ev.request_id))
     ), per_visitor AS (
       SELECT variant, user_id, count(*) FILTER (WHERE type = 'click') AS clicks,
              coalesce(sum(revenue) FILTER (WHERE type = 'purchase'), 0) AS revenue, bool_or(type = 'purchase') AS converted
       FROM credited GROUP BY variant, user_id
     ), visitors AS (
       SELECT variant, user_id, count(*) AS exposures FROM exposed GROUP BY variant, user_id
     )
     SELECT v.variant, count(*)::int AS visitors, sum(v.exposures)::int AS exposures,
            coalesce(sum(p.clicks), 0)::int AS clicks, (count(*) FILTER (WHERE p.converted))::int AS converters,
            coalesce(sum(p.revenue), 0)::float8 AS revenue, coalesce(sum(p.revenue * p.revenue), 0)::float8 AS "revenueSquares"
     FROM visitors v LEFT JOIN per_visitor p USING (variant, user_id)
     GROUP BY v.variant ORDER BY v.variant`,
    [experimentId, windowSeconds],
  );
  return rows;
}
