// Month partitions of events (010_events_partitioned.sql): created ahead of time, dropped whole
// past EVENTS_RETENTION_MONTHS, and rows that landed in the DEFAULT partition (no month
// partition existed for them) moved into their month's partition once it exists.
//
// Locks: a new month is attached (SHARE UPDATE EXCLUSIVE on events, so reads and inserts go on;
// the default partition is locked while it is checked), a dropped one needs ACCESS EXCLUSIVE on
// events for a moment. Both wait at most `lockTimeoutMs` behind a long reader (a build's COPY)
// and are then left for the next run, reported in `deferred`.
import type pg from 'pg';
import { transaction } from './pool.ts';

export interface PartitionPolicy {
  /** Whole months kept before the current one; 0 keeps everything. */
  retentionMonths: number;
  /** Months after the current one that get their partition ahead of time. */
  aheadMonths: number;
  lockTimeoutMs?: number;
}

export interface EventPartition {
  name: string;
  /** First instant of the month (UTC). */
  from: Date;
  /** First instant of the next month. */
  to: Date;
}

export interface PartitionReport {
  created: string[];
  dropped: string[];
  /** Rows moved from the default partition into month partitions. */
  moved: number;
  /** Rows of the default partition older than the retention: deleted. */
  expired: number;
  /** What waited too long for its lock; the next run does it. */
  deferred: string[];
}

const DEFAULT_LOCK_TIMEOUT_MS = 5000;
// Serialises maintenance runs (an import and a build at once): any constant.
const PARTITION_LOCK_ID = 727_003;

/** First instant (UTC) of the month `offset` months after the month of `at`. */
export function monthStart(at: Date, offset = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1));
}

export function partitionName(month: Date): string {
  return `events_p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The month partitions of events, oldest first (the default partition is not one). */
export async function eventPartitions(db: Pick<pg.Pool, 'query'>): Promise<EventPartition[]> {
  const { rows } = await db.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass`,
  );
  const partitions: EventPartition[] = [];
  for (const { name, bound } of rows) {
    const range = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(bound);
    if (range) partitions.push({ name, from: boundDate(range[1]), to: boundDate(range[2]) });
  }
  return partitions.sort((a, b) => a.from.getTime() - b.from.getTime());
}

/** A bound as PostgreSQL prints it ('2024-01-01 00:00:00+00', in the session's zone). */
function boundDate(text: string): Date {
  return new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
}

function isLockTimeout(err: unknown): boolean {
  return (err as { code?: string }).code === '55P03';
}

function inTransaction<T>(pool: pg.Pool, lockTimeoutMs: number, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return transaction(pool, async (client) => {
    await client.query(`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
    await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK_ID]);
    return work(client);
  });
}

/**
 * The partition of `month`, made from a plain table: the month's rows are moved out of the
 * default partition into it, then it is attached (an attach checks the default partition holds
 * none of its range). Returns the rows moved; null when the partition existed.
 */
async function createMonth(client: pg.PoolClient, month: Date): Promise<number | null> {
  const name = partitionName(month);
  const exists = await client.query('SELECT 1 FROM pg_class WHERE relname = $1 AND relnamespace = current_schema()::regnamespace', [name]);
  if (exists.rowCount) return null;
  const [from, to] = [month.toISOString(), monthStart(month, 1).toISOString()];
  await client.query(`CREATE TABLE ${name} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  const moved = await client.query(`WITH moved AS (DELETE FROM events_default WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *) INSERT INTO ${name} SELECT * FROM moved`, [from, to]);
  await client.query(`ALTER TABLE events ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`);
  return moved.rowCount ?? 0;
}

/**
 * Makes sure each month (any instant in it) has its partition, each in a short transaction of
 * its own. Months whose lock could not be had in time are left to the default partition.
 */
export async function ensureMonths(pool: pg.Pool, months: Iterable<Date>, report: PartitionReport, lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS): Promise<void> {
  const wanted = new Map<number, Date>();
  for (const m of months) wanted.set(monthStart(m).getTime(), monthStart(m));
  const existing = new Set((await eventPartitions(pool)).map((p) => p.from.getTime()));
  for (const [t, month] of [...wanted].sort((a, b) => a[0] - b[0])) {
    if (existing.has(t)) continue;
    try {
      const moved = await inTransaction(pool, lockTimeoutMs, (client) => createMonth(client, month));
      if (moved !== null) {
        report.created.push(partitionName(month));
        report.moved += moved;
      }
    } catch (err) {
      if (!isLockTimeout(err)) throw err;
      report.deferred.push(`create ${partitionName(month)}`);
    }
  }
}

/** One line for an operator, or null when the run changed nothing. */
export function describePartitionReport(r: PartitionReport): string | null {
  const done = [
    r.created.length && `created ${r.created.join(', ')}`,
    r.dropped.length && `dropped ${r.dropped.join(', ')}`,
    r.moved && `${r.moved.toLocaleString('en-US')} rows moved out of the default partition`,
    r.expired && `${r.expired.toLocaleString('en-US')} expired rows of the default partition deleted`,
    r.deferred.length && `left for the next run (lock busy): ${r.deferred.join(', ')}`,
  ].filter(Boolean);
  return done.length ? `event partitions: ${done.join('; ')}` : null;
}

export function emptyReport(): PartitionReport {
  return { created: [], dropped: [], moved: 0, expired: 0, deferred: [] };
}

/** First instant kept under the policy, or null when everything is kept. */
export function retentionCutoff(policy: Pick<PartitionPolicy, 'retentionMonths'>, now: Date): Date | null {
  return policy.retentionMonths > 0 ? monthStart(now, -policy.retentionMonths) : null;
}

/**
 * One maintenance run: partitions for this month and `aheadMonths` after it, and for every
 * month within the retention that has rows in the default partition (moving them there);
 * then, with a retention, every partition wholly before the cutoff is dropped with its
 * idempotency keys, and so are the default partition's rows before it. Nothing else is deleted.
 */
export async function maintainEventPartitions(pool: pg.Pool, policy: PartitionPolicy, now = new Date()): Promise<PartitionReport> {
  const lockTimeoutMs = policy.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const report = emptyReport();
  const cutoff = retentionCutoff(policy, now);
  const last = monthStart(now, policy.aheadMonths + 1);
  const months: Date[] = [];
  for (let m = monthStart(now); m < last; m = monthStart(m, 1)) months.push(m);
  const stranded = await pool.query<{ month: Date }>(
    `SELECT DISTINCT date_trunc('month', occurred_at, 'UTC') AS month FROM events_default
     WHERE isfinite(occurred_at) AND occurred_at < $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2)`,
    [last, cutoff],
  );
  months.push(...stranded.rows.map((r) => r.month));
  await ensureMonths(pool, months, report, lockTimeoutMs);

  if (cutoff === null) return report;
  for (const p of await eventPartitions(pool)) {
    if (p.to > cutoff) continue;
    try {
      await inTransaction(pool, lockTimeoutMs, async (client) => {
        // The lock first: no insert into this month may come between the keys' deletion and the drop.
        await client.query(`LOCK TABLE ${p.name} IN ACCESS EXCLUSIVE MODE`);
        await client.query(`DELETE FROM event_idempotency k USING ${p.name} e
          WHERE e.idempotency_key IS NOT NULL AND k.tenant_id = e.tenant_id AND k.idempotency_key = e.idempotency_key`);
        await client.query(`DROP TABLE ${p.name}`);
      });
      report.dropped.push(p.name);
    } catch (err) {
      if (!isLockTimeout(err)) throw err;
      report.deferred.push(`drop ${p.name}`);
    }
  }
  const expired = await pool.query<{ n: number }>(
    `WITH gone AS (DELETE FROM events_default WHERE occurred_at < $1 RETURNING tenant_id, idempotency_key),
     gone_keys AS (DELETE FROM event_idempotency k USING gone g WHERE k.tenant_id = g.tenant_id AND k.idempotency_key = g.idempotency_key)
     SELECT count(*)::int AS n FROM gone`,
    [cutoff],
  );
  report.expired = expired.rows[0].n;
  return report;
}

/**
 * Months loaded in bulk by an import: each month that has no partition yet is filled as a plain
 * table of its own, indexed by sorting (several times faster than growing the indexes row by
 * row), and attached at the end of the import's transaction. Built inside that transaction.
 */
export interface BulkMonths {
  /** A partitioned table of the same shape: one INSERT routes the rows to the month tables. */
  parent: string;
  /** Month start (ms) → its table. */
  tables: Map<number, string>;
}

export async function createBulkMonths(client: Pick<pg.PoolClient, 'query'>, months: readonly Date[]): Promise<BulkMonths> {
  const parent = `events_bulk_${process.pid}_${Date.now().toString(36)}`;
  await client.query(`CREATE TABLE ${parent} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (occurred_at)`);
  const tables = new Map<number, string>();
  for (const month of months) {
    const table = `${parent}_${partitionName(month).slice('events_p'.length)}`;
    await client.query(`CREATE TABLE ${table} PARTITION OF ${parent} FOR VALUES FROM ('${month.toISOString()}') TO ('${monthStart(month, 1).toISOString()}')`);
    tables.set(month.getTime(), table);
  }
  return { parent, tables };
}

/** Frees the month tables from their loading parent and gives each the indexes of events. */
export async function indexBulkMonths(client: Pick<pg.PoolClient, 'query'>, bulk: BulkMonths): Promise<void> {
  const { rows } = await client.query<{ def: string }>(`SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = 'events'::regclass AND NOT indisprimary`);
  for (const table of bulk.tables.values()) {
    await client.query(`ALTER TABLE ${bulk.parent} DETACH PARTITION ${table}`);
    // The key of events (010_events_partitioned.sql): an attached partition needs it as a constraint.
    await client.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id, occurred_at)`);
    for (const { def } of rows) await client.query(def.replace(/^CREATE (UNIQUE )?INDEX \S+ ON ONLY \S+/, `CREATE $1INDEX ON ${table}`));
  }
  await client.query(`DROP TABLE ${bulk.parent}`);
}

/**
 * Attaches each month table as its month's partition (after moving in that month's rows of the
 * default partition), or, when the month got a partition meanwhile, copies its rows there. Holds
 * the maintenance lock from here to the commit: keep what follows short.
 */
export async function attachBulkMonths(client: Pick<pg.PoolClient, 'query'>, bulk: BulkMonths): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK_ID]);
  const existing = new Set((await eventPartitions(client)).map((p) => p.from.getTime()));
  for (const [t, table] of bulk.tables) {
    const month = new Date(t);
    const [from, to] = [month.toISOString(), monthStart(month, 1).toISOString()];
    if (existing.has(t)) {
      await client.query(`INSERT INTO events SELECT * FROM ${table}`);
      await client.query(`DROP TABLE ${table}`);
      continue;
    }
    await client.query(`WITH moved AS (DELETE FROM events_default WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *) INSERT INTO ${table} SELECT * FROM moved`, [from, to]);
    await client.query(`ALTER TABLE ${table} RENAME TO ${partitionName(month)}`);
    await client.query(`ALTER TABLE events ATTACH PARTITION ${partitionName(month)} FOR VALUES FROM ('${from}') TO ('${to}')`);
  }
}
