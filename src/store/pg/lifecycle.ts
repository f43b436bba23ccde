// PostgreSQL adapter of the customer lifecycle (040_lifecycle.sql): the build's replacement of
// a tenant's profiles with the segment moves it makes, and the reads of the API (one profile,
// segment counts, audiences streamed in one snapshot). Opted-out users are left out of every
// read, whatever the last build wrote: PostgreSQL is the truth of an opt-out (NOT_OPTED_OUT, on `p`).
import type pg from 'pg';
import type { CustomerProfile, LifecycleFit, ProfileRecord } from '../../lifecycle/profiles.ts';
import { isoDay } from '../../lifecycle/purchase-days.ts';
import { nextDueDays, type DueItem } from '../../lifecycle/replenishment.ts';
import type { CatalogFields } from '../../recommend/types.ts';
import { copyRows } from './copy.ts';
import { transaction } from './pool.ts';
import type { Db } from './experiments.ts';
import { lockProfiles } from './user-locks.ts';

/** What the build adds to a customer's profile: their due items. */
export interface StoredProfile extends CustomerProfile {
  dueItems: DueItem[];
}

const COLUMNS = [
  'tenant_id',
  'version',
  'user_id',
  'orders',
  'revenue',
  'average_order_value',
  'first_purchase',
  'last_purchase',
  'mean_gap_days',
  'median_gap_days',
  'expected_next_purchase',
  'recency_days',
  'recency_score',
  'frequency_score',
  'monetary_score',
  'segment',
  'p_alive',
  'expected_purchases_30',
  'expected_purchases_90',
  'expected_spend',
  'customer_value',
  'due_items',
  'next_due_days',
];

// Dates as text: a `date` parsed by node-postgres becomes a local-time midnight.
const SELECT = `p.user_id, p.version, p.orders, p.revenue, p.average_order_value, p.first_purchase::text, p.last_purchase::text,
  p.mean_gap_days, p.median_gap_days, p.expected_next_purchase::text, p.recency_days, p.recency_score, p.frequency_score,
  p.monetary_score, p.segment, p.p_alive, p.expected_purchases_30, p.expected_purchases_90, p.expected_spend,
  p.customer_value, p.due_items, p.next_due_days`;

/** Users whose profile no read may show: opted out since the build (erasure deletes the rows). */
export const NOT_OPTED_OUT = `NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = p.tenant_id AND u.id = p.user_id AND (u.personalization_opt_out OR u.deleted_at IS NOT NULL))`;

function copyRow(tenant: string, version: number, p: StoredProfile): unknown[] {
  return [
    tenant,
    version,
    p.user,
    p.orders,
    p.revenue,
    p.averageOrderValue,
    isoDay(p.firstDay),
    isoDay(p.lastDay),
    p.meanGapDays,
    p.medianGapDays,
    p.expectedNextDay === null ? null : isoDay(Math.round(p.expectedNextDay)),
    p.recencyDays,
    p.recency,
    p.frequency,
    p.monetary,
    p.segment,
    p.pAlive,
    p.expectedPurchases30,
    p.expectedPurchases90,
    p.expectedSpend,
    p.customerValue,
    JSON.stringify(p.dueItems),
    nextDueDays(p.dueItems),
  ];
}

export interface Replaced {
  /** Profiles stored. */
  profiles: number;
  /** Users whose profile was left out because they were erased or opted out by the time of writing. */
  excluded: Set<string>;
  /** Users who had a profile and have none now: their Redis copies go. */
  removed: string[];
  /** Segment moves recorded (a first profile counts as one). */
  moves: number;
}

/**
 * Replaces the tenant's profiles with `profiles` of `version` in one transaction, recording each
 * customer whose segment differs from their previous profile's. Holds the tenant's profiles lock
 * (src/store/pg/user-locks.ts), so an erasure either committed before (its user is left out) or
 * waits and deletes what was written.
 */
export async function replaceProfiles(pool: pg.Pool, tenant: string, version: number, profiles: Iterable<StoredProfile>, fit: LifecycleFit): Promise<Replaced> {
  return transaction(pool, async (client) => {
    await lockProfiles(client, tenant, 'exclusive');
    await client.query('CREATE TEMP TABLE lifecycle_staged (LIKE lifecycle_profiles INCLUDING DEFAULTS) ON COMMIT DROP');
    await copyRows(
      client,
      'lifecycle_staged',
      COLUMNS,
      (function* () {
        for (const p of profiles) yield copyRow(tenant, version, p);
      })(),
    );
    await client.query('CREATE INDEX ON lifecycle_staged (user_id)');
    const excluded = await client.query<{ user_id: string }>(
      `DELETE FROM lifecycle_staged s USING users u
     WHERE u.tenant_id = $1 AND u.id = s.user_id AND (u.personalization_opt_out OR u.deleted_at IS NOT NULL) RETURNING s.user_id`,
      [tenant],
    );
    const moves = await client.query(
      `INSERT INTO lifecycle_segment_changes (tenant_id, user_id, version, from_segment, to_segment, changed_at)
     SELECT $1, s.user_id, $2, p.segment, s.segment, now()
     FROM lifecycle_staged s LEFT JOIN lifecycle_profiles p ON p.tenant_id = $1 AND p.user_id = s.user_id
     WHERE p.segment IS DISTINCT FROM s.segment`,
      [tenant, version],
    );
    const removed = await client.query<{ user_id: string }>(
      `WITH gone AS (DELETE FROM lifecycle_profiles WHERE tenant_id = $1 RETURNING user_id)
     SELECT g.user_id FROM gone g WHERE NOT EXISTS (SELECT 1 FROM lifecycle_staged s WHERE s.user_id = g.user_id)`,
      [tenant],
    );
    const inserted = await client.query(`INSERT INTO lifecycle_profiles SELECT * FROM lifecycle_staged`);
    const json = (v: unknown) => (v === null ? null : JSON.stringify(v));
    const bg = fit.bgnbd;
    const spend = fit.spend.fit;
    await client.query(`INSERT INTO lifecycle_versions (tenant_id, version, as_of, customers, repeat_buyers, bgnbd, gamma_gamma) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      tenant,
      version,
      isoDay(fit.asOfDay),
      inserted.rowCount ?? 0,
      fit.repeatBuyers,
      json(bg && { ...bg.params, log_likelihood: bg.logLikelihood, standard_errors: bg.standardErrors, converged: bg.converged }),
      json(
        spend && { ...spend.params, log_likelihood: spend.logLikelihood, standard_errors: spend.standardErrors, repeat_buyers: fit.spend.buyers, frequency_spend_correlation: fit.spend.correlation },
      ),
    ]);
    return { profiles: inserted.rowCount ?? 0, excluded: new Set(excluded.rows.map((r) => r.user_id)), removed: removed.rows.map((r) => r.user_id), moves: moves.rowCount ?? 0 };
  });
}

export interface LifecycleVersion {
  version: number;
  as_of: string;
  customers: number;
  repeat_buyers: number;
  bgnbd: Record<string, unknown> | null;
  gamma_gamma: Record<string, unknown> | null;
  computed_at: Date;
}

/** The tenant's current lifecycle build; null before the first. */
export async function currentLifecycle(db: Db, tenant: string): Promise<LifecycleVersion | null> {
  const { rows } = await db.query<LifecycleVersion>(
    `SELECT version, as_of::text, customers, repeat_buyers, bgnbd, gamma_gamma, computed_at FROM lifecycle_versions
     WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`,
    [tenant],
  );
  return rows[0] ?? null;
}

/**
 * A user's current profile and its reference day, a linked id's being its customer's
 * (docs/identity.md); null when they have none (no purchases in the last build, opted out, erased).
 */
export async function findProfile(db: Db, tenant: string, user: string): Promise<{ record: ProfileRecord; asOf: string } | null> {
  const { rows } = await db.query<ProfileRecord & { as_of: string }>(
    `SELECT ${SELECT}, v.as_of::text FROM lifecycle_profiles p JOIN lifecycle_versions v ON v.tenant_id = p.tenant_id AND v.version = p.version
     WHERE p.tenant_id = $1 AND p.user_id = coalesce((SELECT customer_id FROM identity_links WHERE tenant_id = $1 AND alias_id = $2), $2) AND ${NOT_OPTED_OUT}`,
    [tenant, user],
  );
  if (rows.length === 0) return null;
  const { as_of: asOf, ...record } = rows[0];
  return { record, asOf };
}

/** The current lifecycle build with its customers per segment (read in one statement: one snapshot); null before the first. */
export async function lifecycleSummary(db: Db, tenant: string): Promise<(LifecycleVersion & { segments: Record<string, number> }) | null> {
  const { rows } = await db.query<LifecycleVersion & { segments: Record<string, number> | null }>(
    `SELECT v.version, v.as_of::text, v.customers, v.repeat_buyers, v.bgnbd, v.gamma_gamma, v.computed_at,
       (SELECT json_object_agg(segment, n) FROM (SELECT p.segment, count(*)::int AS n FROM lifecycle_profiles p WHERE p.tenant_id = $1 AND ${NOT_OPTED_OUT} GROUP BY p.segment) s) AS segments
     FROM lifecycle_versions v WHERE v.tenant_id = $1 ORDER BY v.version DESC LIMIT 1`,
    [tenant],
  );
  return rows[0] ? { ...rows[0], segments: rows[0].segments ?? {} } : null;
}

/** Catalog fields of items, by id (those the catalog has). */
export async function catalogItems(db: Db, tenant: string, ids: readonly string[]): Promise<Map<string, CatalogFields>> {
  const { rows } = await db.query<CatalogFields>(
    `SELECT id, title, brand, category, price::float8 AS price, currency, url, image_url, in_stock FROM products WHERE tenant_id = $1 AND id = ANY($2::text[])`,
    [tenant, [...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** The version an audience read was asked for is no longer the current one. */
export class VersionChangedError extends Error {
  constructor(
    readonly asked: number,
    readonly current: number | null,
  ) {
    super(`lifecycle version ${asked} was replaced by ${current ?? 'none'}`);
  }
}

// Rows read per round trip of an audience's cursor.
const FETCH_ROWS = 1000;

export interface ProfileScan {
  version: LifecycleVersion;
  /** Profiles in user id order after `after`, in chunks; the transaction ends when they do (or on close). */
  chunks(): AsyncGenerator<ProfileRecord[]>;
  close(): Promise<void>;
}

/**
 * Opens a read of the tenant's current profiles in one snapshot (a read-only repeatable-read
 * transaction), in user id order from after `after`, only `segments` when given. Throws
 * VersionChangedError when `version` is given and is not the current one; null before the
 * first lifecycle build.
 */
export async function scanProfiles(pool: pg.Pool, tenant: string, from: { version?: number; after?: string; segments?: readonly string[] }): Promise<ProfileScan | null> {
  const client = await pool.connect();
  let open = true;
  let version: LifecycleVersion | null;
  const close = async () => {
    if (!open) return;
    open = false;
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    version = await currentLifecycle(client, tenant);
    if (from.version !== undefined && version?.version !== from.version) throw new VersionChangedError(from.version, version?.version ?? null);
    if (version === null) {
      await close();
      return null;
    }
    await client.query(
      `DECLARE profiles NO SCROLL CURSOR FOR SELECT ${SELECT} FROM lifecycle_profiles p
       WHERE p.tenant_id = $1 AND p.user_id > $2 AND ($3::text[] IS NULL OR p.segment = ANY($3::text[])) AND ${NOT_OPTED_OUT}
       ORDER BY p.user_id`,
      [tenant, from.after ?? '', from.segments ?? null],
    );
  } catch (err) {
    await close();
    throw err;
  }
  return {
    version,
    close,
    async *chunks() {
      try {
        for (;;) {
          const { rows } = await client.query<ProfileRecord>(`FETCH ${FETCH_ROWS} FROM profiles`);
          if (rows.length === 0) return;
          yield rows;
        }
      } finally {
        await close();
      }
    },
  };
}
