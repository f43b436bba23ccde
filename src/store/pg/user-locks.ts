// Erasure wins every race in PostgreSQL. Every writer of a user's rows (events, clicks,
// exposures) runs in a transaction that first takes a shared advisory lock per user it writes,
// then checks the tombstones and inserts; erasure takes the same lock exclusively, writes the
// tombstone and deletes. A write either commits before the erasure deletes (and is deleted), or
// checks after the tombstone committed (and drops the user's rows). Hash collisions between two
// users only make them wait for each other.
import type pg from 'pg';
import { transaction } from './pool.ts';

// Any constant: the namespace of these locks among the database's advisory locks.
const USER_LOCK_SPACE = 727_002;

export type Tx = Pick<pg.PoolClient, 'query'>;

function inTransaction<T>(pool: pg.Pool, lock: (tx: Tx) => Promise<unknown>, work: (tx: Tx) => Promise<T>): Promise<T> {
  return transaction(
    pool,
    async (client) => {
      await lock(client);
      return work(client);
    },
    // An acknowledged write is durable whatever the server's default (a development cluster may
    // run with synchronous_commit off): the commit waits for its WAL to be flushed.
    'BEGIN; SET LOCAL synchronous_commit = on',
  );
}

/**
 * Runs `work` in a transaction holding the shared lock of each of `users` (in one order, so two
 * writers never deadlock): inside it, a tombstone check sees every erasure that committed.
 */
export function writeAsUsers<T>(pool: pg.Pool, tenant: string, users: readonly string[], work: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(
    pool,
    (tx) => tx.query(`SELECT count(pg_advisory_xact_lock_shared(${USER_LOCK_SPACE}, hashtext($2 || ':' || u))) FROM (SELECT DISTINCT u FROM unnest($1::text[]) u ORDER BY u) ordered`, [users, tenant]),
    work,
  );
}

/**
 * Runs `work` holding the lock of each of `users` exclusively (in the writers' order): no writer
 * of theirs is between its check and its commit. Erasure takes it, and so does every change of
 * which ids are one customer (src/privacy/identities.ts), so neither is passed by a writer.
 */
export function eraseAsOwner<T>(pool: pg.Pool, tenant: string, users: string | readonly string[], work: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(
    pool,
    (tx) =>
      tx.query(`SELECT count(pg_advisory_xact_lock(${USER_LOCK_SPACE}, hashtext($2 || ':' || u))) FROM (SELECT DISTINCT u FROM unnest($1::text[]) u ORDER BY u) ordered`, [[users].flat(), tenant]),
    work,
  );
}

/** Those of `users` who were erased (a tombstone in `users`). */
export async function erasedAmong(tx: Tx, tenant: string, users: readonly string[]): Promise<Set<string>> {
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $2 AND id = ANY($1::text[]) AND deleted_at IS NOT NULL', [[...new Set(users)], tenant]);
  return new Set(rows.map((r) => r.id));
}

/** Users erased at or after `since` (PostgreSQL's clock). */
export async function erasedSince(db: Pick<pg.Pool, 'query'>, tenant: string, since: Date): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $2 AND deleted_at >= $1', [since, tenant]);
  return rows.map((r) => r.id);
}

// The namespace of the lock on a tenant's lifecycle profiles.
const PROFILES_LOCK_SPACE = 727_004;

/**
 * Erasure wins over the lifecycle stage too: the stage replaces a tenant's profiles holding this
 * lock exclusively and leaves out every user erased by then; an erasure takes it shared before
 * deleting the user's profile rows, so it waits for a replacement under way and then deletes
 * what it wrote. Shared: erasures never wait for each other.
 */
export async function lockProfiles(tx: Tx, tenant: string, mode: 'shared' | 'exclusive'): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock${mode === 'shared' ? '_shared' : ''}(${PROFILES_LOCK_SPACE}, hashtext($1))`, [tenant]);
}
