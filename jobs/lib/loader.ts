// Loads one source file into PostgreSQL: events via COPY into a staging table, then merged
// with ON CONFLICT so a re-import adds nothing; products upserted. One transaction per file.
import { ensureTenant } from '../../src/store/pg/tenants.ts';
import { DEFAULT_TENANT } from '../../src/tenant.ts';
import type pg from 'pg';
import { copyRows } from '../../src/store/pg/copy.ts';
import { insertEventsSql } from '../../src/store/pg/events.ts';
import { attachBulkMonths, createBulkMonths, emptyReport, ensureMonths, eventPartitions, indexBulkMonths, monthStart, retentionCutoff, type PartitionPolicy } from '../../src/store/pg/partitions.ts';
import { Progress } from './progress.ts';
import type { ProductRecord, SourceFile, SourceRow } from './sources.ts';

export interface ImportSummary {
  source: string;
  path: string;
  rowsRead: number;
  eventsRead: number;
  eventsNew: number;
  productsUpserted: number;
  skipped: Record<string, number>;
  rejected: number;
  /** The first rejected rows, with their line numbers, for the report. */
  rejectedSample: { line: number; reason: string }[];
  /**
   * Rows repeating an earlier row of the file exactly. Loaded all the same: a file has no ids to
   * tell a repeat from a real second event (UCI's 5,268 are repeated order lines), only counted
   * (in PostgreSQL, from each row's text hash: jobs/lib/duplicate-rows.ts).
   */
  duplicateRows: number;
  /** Lines that are not valid UTF-8 (rejected; counted in `rejected` too): how many, and the first. */
  invalidUtf8: { lines: number; sample: number[] };
  seconds: number;
  /** Where the seconds went: reading and staging the file, counting repeats, claiming keys, loading, indexing new months... */
  phases: Record<string, number>;
}

export interface ImportOptions {
  /** The shop the rows belong to (default: the default tenant). */
  tenant?: string;
  /** Prepended to user and item ids. */
  idPrefix?: string;
  rejectedSampleSize?: number;
  quiet?: boolean;
  /** Events older than the retention are skipped; the months of the rest get their partitions first. */
  partitions?: PartitionPolicy;
}

export const OLDER_THAN_RETENTION = 'older than EVENTS_RETENTION_MONTHS';

// Per import transaction: bounded whatever the file's size (PostgreSQL spills past it).
const MERGE_WORK_MEM = '256MB';
const INDEX_WORK_MEM = '512MB';

const STAGE_EVENT_COLUMNS = ['user_id', 'item_id', 'type', 'quantity', 'price', 'weight', 'occurred_at', 'idempotency_key', 'source'];

export async function importSource(pool: pg.Pool, source: SourceFile, options: ImportOptions = {}): Promise<ImportSummary> {
  const prefix = options.idPrefix ?? '';
  const tenant = options.tenant ?? DEFAULT_TENANT;
  await ensureTenant(pool, tenant);
  const sampleSize = options.rejectedSampleSize ?? 20;
  const policy = options.partitions ?? { retentionMonths: 0, aheadMonths: 3 };
  const startedAt = new Date();
  const cutoff = retentionCutoff(policy, startedAt)?.getTime() ?? -Infinity;
  // Later months stay in the default partition until the partition job reaches them.
  const lastMonth = monthStart(startedAt, policy.aheadMonths + 1).getTime();
  const progress = new Progress(`import ${source.name}`, source.csv.sizeBytes, 'rows');
  const summary: ImportSummary = {
    source: source.name,
    path: source.path,
    rowsRead: 0,
    eventsRead: 0,
    eventsNew: 0,
    productsUpserted: 0,
    skipped: {},
    rejected: 0,
    rejectedSample: [],
    duplicateRows: 0,
    invalidUtf8: { lines: 0, sample: [] },
    seconds: 0,
    phases: {},
  };
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      summary.phases[phase] = (summary.phases[phase] ?? 0) + (performance.now() - t0) / 1000;
    }
  };
  const reject = (line: number, reason: string) => {
    summary.rejected++;
    if (summary.rejectedSample.length < sampleSize) summary.rejectedSample.push({ line, reason });
  };
  const skip = (reason: string) => {
    summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
  };
  // Catalog rows repeat (one per event in REES46/UCI): keep the latest version of each product.
  const products = new Map<string, ProductRecord>();
  const months = new Set<number>();
  let lastLine = 0;
  // The text hash of the line being read (csv.onRow tells it just before the line's rows come):
  // it goes to PostgreSQL with the line's first event, or alone when the line has none.
  let told = { line: 0, hash: 0 };
  source.csv.onRow = (line, hash) => {
    told = { line, hash };
  };
  let lineHash: number | null = null;

  async function* eventRows(): AsyncIterable<unknown[]> {
    for await (const row of source.rows as AsyncIterable<SourceRow>) {
      if (row.line !== lastLine) {
        if (lineHash !== null) yield [null, null, null, null, null, null, null, null, null, lineHash];
        summary.rowsRead++;
        lastLine = row.line;
        lineHash = told.line === row.line ? told.hash : null;
      }
      if (!options.quiet) progress.update(source.csv.bytesRead(), summary.rowsRead);
      switch (row.kind) {
        case 'product':
          products.set(row.product.id, row.product);
          break;
        case 'skip':
          skip(row.reason);
          break;
        case 'reject':
          reject(row.line, row.reason);
          break;
        case 'event': {
          const e = row.event;
          const t = e.occurredAt.getTime();
          if (t < cutoff) {
            skip(OLDER_THAN_RETENTION);
            break;
          }
          summary.eventsRead++;
          if (t < lastMonth) months.add(monthStart(e.occurredAt).getTime());
          yield [prefix + e.user, prefix + e.item, e.type, e.quantity, e.price, e.weight, e.occurredAt.toISOString(), `${source.name}:${row.line}`, source.name, lineHash];
          lineHash = null;
        }
      }
    }
    if (lineHash !== null) yield [null, null, null, null, null, null, null, null, null, lineHash];
  }

  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Room for the merge's hash of this file's keys and the repeat count's aggregate.
    await client.query(`SET LOCAL work_mem = '${MERGE_WORK_MEM}'`);
    await client.query(`SET LOCAL maintenance_work_mem = '${INDEX_WORK_MEM}'`);
    const importStartedAt = (await client.query<{ now: Date }>('SELECT now()')).rows[0].now;
    // Rows without an idempotency key carry only the hash of a line that has no event.
    await client.query(`CREATE TEMP TABLE stage_events (
      user_id text, item_id text, type text, quantity integer, price numeric, weight real,
      occurred_at timestamptz, idempotency_key text, source text, row_hash bigint) ON COMMIT DROP`);
    await timed('read and stage', () => copyRows(client, 'stage_events', [...STAGE_EVENT_COLUMNS, 'row_hash'], eventRows()));
    summary.invalidUtf8 = source.csv.stats.invalidUtf8;
    summary.duplicateRows = await timed('count repeats', async () => (await client.query<{ n: number }>('SELECT (count(row_hash) - count(DISTINCT row_hash))::int AS n FROM stage_events')).rows[0].n);
    if (products.size) {
      await client.query(`CREATE TEMP TABLE stage_products ON COMMIT DROP AS SELECT id, title, brand, category, price, currency, url, image_url, in_stock FROM products WITH NO DATA`);
      await copyRows(
        client,
        'stage_products',
        ['id', 'title', 'brand', 'category', 'price', 'currency', 'url', 'image_url', 'in_stock'],
        [...products.values()].map((p) => [prefix + p.id, p.title, p.brand, p.category, p.price, p.currency, p.url, p.image_url, p.in_stock]),
      );
      // A field missing from this source (UCI has no brand) must not erase one another source gave.
      const upserted = await client.query(
        `INSERT INTO products AS p (tenant_id, id, title, brand, category, price, currency, url, image_url, in_stock)
        SELECT $1, id, title, brand, category, price, currency, url, image_url, in_stock FROM stage_products
        ON CONFLICT (tenant_id, id) DO UPDATE SET
          title = COALESCE(EXCLUDED.title, p.title), brand = COALESCE(EXCLUDED.brand, p.brand),
          category = COALESCE(EXCLUDED.category, p.category), price = COALESCE(EXCLUDED.price, p.price),
          currency = COALESCE(EXCLUDED.currency, p.currency), url = COALESCE(EXCLUDED.url, p.url),
          image_url = COALESCE(EXCLUDED.image_url, p.image_url), in_stock = EXCLUDED.in_stock, updated_at = now()`,
        [tenant],
      );
      summary.productsUpserted = upserted.rowCount ?? 0;
    }
    summary.eventsNew = await mergeEvents(
      pool,
      client,
      tenant,
      [...months].map((t) => new Date(t)),
      timed,
    );
    summary.seconds = progress.elapsedSeconds();
    await client.query(
      `INSERT INTO import_runs (tenant_id, source, path, finished_at, rows_read, events_new, products_upserted, rows_rejected, rejected_sample)
      VALUES ($8, $1, $2, now(), $3, $4, $5, $6, $7)`,
      [source.name, source.path, summary.rowsRead, summary.eventsNew, summary.productsUpserted, summary.rejected, JSON.stringify(summary.rejectedSample), tenant],
    );
    await client.query('COMMIT');
    // Erasure wins: a user erased while this transaction ran had their rows deleted before these
    // were visible. Their tombstone is newer than the transaction (a minute's margin: an
    // erasure's time is its own transaction's start), so their rows go now, with their keys.
    await client.query(
      `WITH gone AS (
        DELETE FROM events e USING users u
        WHERE u.tenant_id = $3 AND e.tenant_id = $3 AND u.id = e.user_id AND u.deleted_at >= $1::timestamptz - interval '1 minute' AND e.source = $2
        RETURNING e.idempotency_key)
      DELETE FROM event_idempotency k USING gone g WHERE k.tenant_id = $3 AND k.idempotency_key = g.idempotency_key`,
      [importStartedAt, source.name, tenant],
    );
    // Fresh statistics: the build's queries plan badly on a table that just grew tenfold.
    await timed('analyze', () => client.query('ANALYZE events'));
    if (products.size) await client.query('ANALYZE products');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  if (!options.quiet) progress.finish(summary.rowsRead, `${summary.eventsNew.toLocaleString('en-US')} new events`);
  return summary;
}

const INSERT_COLUMNS = `tenant_id, ${STAGE_EVENT_COLUMNS.join(', ')}`;
const SELECT_STAGED = `$1::text, ${STAGE_EVENT_COLUMNS.map((c) => `s.${c}`).join(', ')}`;

/**
 * Moves the staged events into events, each only if its idempotency key is new; returns how many.
 * The usual case, a file not imported before, claims every key in one sorted INSERT and then
 * loads the rows; the months that have no partition yet are loaded in bulk (partitions.ts). When
 * some key was already there (a re-import, or a key claimed by another writer meanwhile), the
 * claim is rolled back and the rows go through the claiming statement of every writer instead.
 */
type Timed = <T>(phase: string, work: () => Promise<T>) => Promise<T>;

async function mergeEvents(pool: pg.Pool, client: pg.PoolClient, tenant: string, months: Date[], timed: Timed): Promise<number> {
  // Erased users stay erased; lines without an event carried only their hash.
  await client.query(
    `DELETE FROM stage_events s WHERE s.idempotency_key IS NULL
    OR EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = $1 AND u.id = s.user_id AND u.deleted_at IS NOT NULL)`,
    [tenant],
  );
  await client.query('ANALYZE stage_events');
  const staged = (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM stage_events')).rows[0].n;
  await client.query('SAVEPOINT claim');
  // Sorted: the key index is then filled leaf after leaf.
  const claimed = await timed('claim keys', () =>
    client.query(
      `INSERT INTO event_idempotency (tenant_id, idempotency_key)
    SELECT $1, idempotency_key FROM stage_events ORDER BY idempotency_key ON CONFLICT DO NOTHING`,
      [tenant],
    ),
  );
  if (claimed.rowCount !== staged) {
    await client.query('ROLLBACK TO SAVEPOINT claim');
    // Each month gets its partition first (committed on another connection: this transaction
    // must not hold a new partition's lock through the merge).
    await ensureMonths(pool, months, emptyReport());
    const inserted = await timed('insert rows', () => client.query(insertEventsSql(INSERT_COLUMNS.split(', '), `SELECT ${SELECT_STAGED} FROM stage_events s`), [tenant]));
    return inserted.rowCount ?? 0;
  }
  const existing = new Set((await eventPartitions(client)).map((p) => p.from.getTime()));
  const fresh = months.filter((m) => !existing.has(m.getTime()));
  const bulk = fresh.length ? await createBulkMonths(client, fresh) : null;
  const inBulk = `date_trunc('month', s.occurred_at, 'UTC') = ANY($2::timestamptz[])`;
  const freshBounds = fresh.map((m) => m.toISOString());
  let inserted = 0;
  if (bulk)
    inserted +=
      (await timed('load new months', () => client.query(`INSERT INTO ${bulk.parent} (${INSERT_COLUMNS}) SELECT ${SELECT_STAGED} FROM stage_events s WHERE ${inBulk}`, [tenant, freshBounds])))
        .rowCount ?? 0;
  inserted +=
    (await timed('insert rows', () => client.query(`INSERT INTO events (${INSERT_COLUMNS}) SELECT ${SELECT_STAGED} FROM stage_events s WHERE NOT (${inBulk})`, [tenant, freshBounds]))).rowCount ?? 0;
  if (bulk) {
    await timed('index new months', () => indexBulkMonths(client, bulk));
    await timed('attach new months', () => attachBulkMonths(client, bulk));
  }
  return inserted;
}
