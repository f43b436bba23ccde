// PostgreSQL adapter of identities (050_identity_links.sql, docs/identity.md): which ids are one
// customer. The one writer of identity_links; the customer an id belongs to with every id of
// theirs, read holding all their locks; the first variant each customer saw; and the SQL with
// which the build and the experiment report count an event of a linked id for its customer.
import type pg from 'pg';
import { HttpError } from '../../http/errors.ts';
import type { LinkState } from '../../identity/links.ts';
import type { NotedExposure } from '../../experiments/exposures.ts';
import { eraseAsOwner, type Tx } from './user-locks.ts';

type Db = Tx | Pick<pg.Pool, 'query'>;

/** A customer and the ids linked to them. */
export interface Person {
  /** The canonical id (the id itself when nothing links it). */
  customer: string;
  /** The ids linked to the customer, sorted; never the customer. */
  linked: string[];
}

/** Every id of the person, the customer first. */
export const personIds = (p: Person): string[] => [p.customer, ...p.linked];

/**
 * SQL joining each row of `rows` (a table alias with tenant_id and user_id) to its link, as
 * `link`; personOf names the row's customer then. A LEFT JOIN rather than a subquery per row:
 * the build reads millions of events, and a hash join reads the links once.
 */
export const linkJoin = (rows: string, link = 'l'): string => `LEFT JOIN identity_links ${link} ON ${link}.tenant_id = ${rows}.tenant_id AND ${link}.alias_id = ${rows}.user_id`;
export const personOf = (rows: string, link = 'l'): string => `coalesce(${link}.customer_id, ${rows}.user_id)`;

/** The customer `id` belongs to and the ids linked to them. */
export async function readPerson(db: Db, tenant: string, id: string): Promise<Person> {
  const { rows } = await db.query<{ customer: string; linked: string[] }>(
    `WITH c AS (SELECT coalesce((SELECT customer_id FROM identity_links WHERE tenant_id = $1 AND alias_id = $2), $2) AS customer)
     SELECT c.customer, coalesce(array_agg(l.alias_id ORDER BY l.alias_id) FILTER (WHERE l.alias_id IS NOT NULL), '{}') AS linked
     FROM c LEFT JOIN identity_links l ON l.tenant_id = $1 AND l.customer_id = c.customer GROUP BY c.customer`,
    [tenant, id],
  );
  return rows[0];
}

const idsOf = (persons: readonly Person[]) => [...new Set(persons.flatMap(personIds))];
// Links that keep changing under a request are a client hammering one customer: it retries.
const ATTEMPTS = 5;

/**
 * Runs `work` holding every id of the persons of `ids` exclusively (eraseAsOwner: no writer of any
 * of them is between its tombstone check and its commit), with those persons in the order of
 * `ids`. The persons are read, their ids locked in the writers' order, then read again: a link
 * made or removed meanwhile starts it over.
 */
export async function asPersons<T>(pool: pg.Pool, tenant: string, ids: readonly string[], work: (tx: Tx, persons: Person[]) => Promise<T>): Promise<T> {
  const read = (db: Db) => Promise.all(ids.map((id) => readPerson(db, tenant, id)));
  for (let attempt = 1; ; attempt++) {
    const seen = idsOf(await read(pool));
    const done = await eraseAsOwner(pool, tenant, seen, async (tx) => {
      const persons = await read(tx);
      return idsOf(persons).join('\n') === seen.join('\n') ? { value: await work(tx, persons) } : null;
    });
    if (done !== null) return done.value;
    if (attempt === ATTEMPTS) throw new HttpError(409, 'links_changing', `the ids linked to this id changed ${ATTEMPTS} times while being read: retry`, 'id');
  }
}

/** asPersons of one id. */
export function asPerson<T>(pool: pg.Pool, tenant: string, id: string, work: (tx: Tx, person: Person) => Promise<T>): Promise<T> {
  return asPersons(pool, tenant, [id], (tx, [person]) => work(tx, person));
}

/** The customer `alias` is linked to; null when it is not linked. */
export async function linkOf(db: Db, tenant: string, alias: string): Promise<string | null> {
  const { rows } = await db.query<{ customer_id: string }>('SELECT customer_id FROM identity_links WHERE tenant_id = $1 AND alias_id = $2', [tenant, alias]);
  return rows[0]?.customer_id ?? null;
}

/** What the link rules (src/identity/links.ts) decide on, and whether either side opted out; read holding both ids' locks. */
export async function linkState(tx: Tx, tenant: string, anonymous: string, customer: string): Promise<LinkState & { optedOut: boolean }> {
  const { rows } = await tx.query<LinkState & { optedOut: boolean }>(
    `SELECT (SELECT customer_id FROM identity_links WHERE tenant_id = $1 AND alias_id = $2) AS "anonymousLinkedTo",
       EXISTS (SELECT 1 FROM identity_links WHERE tenant_id = $1 AND customer_id = $2) AS "anonymousHasLinks",
       (SELECT customer_id FROM identity_links WHERE tenant_id = $1 AND alias_id = $3) AS "customerLinkedTo",
       EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NOT NULL) AS "anonymousErased",
       EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $3 AND deleted_at IS NOT NULL) AS "customerErased",
       EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = $1 AND u.personalization_opt_out
         AND (u.id IN ($2, $3) OR u.id IN (SELECT alias_id FROM identity_links WHERE tenant_id = $1 AND customer_id = $3))) AS "optedOut"`,
    [tenant, anonymous, customer],
  );
  return rows[0];
}

/** Stores the link; run it holding both ids' locks, once linkRefusal found nothing. */
export async function insertLink(tx: Tx, tenant: string, anonymous: string, customer: string): Promise<void> {
  await tx.query('INSERT INTO identity_links (tenant_id, alias_id, customer_id) VALUES ($1, $2, $3)', [tenant, anonymous, customer]);
}

/** Removes `alias`'s link; the customer it was linked to, or null when it was not. */
export async function deleteLink(tx: Tx, tenant: string, alias: string): Promise<string | null> {
  const { rows } = await tx.query<{ customer_id: string }>('DELETE FROM identity_links WHERE tenant_id = $1 AND alias_id = $2 RETURNING customer_id', [tenant, alias]);
  return rows[0]?.customer_id ?? null;
}

/** Every link of the tenant (the flags' copy into Redis, src/privacy/flags.ts). */
export async function allLinks(db: Db, tenant: string): Promise<{ alias: string; customer: string }[]> {
  const { rows } = await db.query<{ alias: string; customer: string }>('SELECT alias_id AS alias, customer_id AS customer FROM identity_links WHERE tenant_id = $1', [tenant]);
  return rows;
}

export interface FirstVariant {
  customer: string;
  experiment: string;
  variant: string;
}

/**
 * The variant of each linked customer's first exposure (under any of their ids) in each running
 * experiment: what they keep (docs/identity.md). Only customers with linked ids: anyone else's
 * first variant is the hash of their own id, as every later one is. `customer` limits it to one,
 * and `noted` adds that customer's exposures PostgreSQL may not have yet (noted in Redis as they
 * were served, src/store/redis/exposures.ts): the earliest of all wins.
 */
export async function firstVariants(db: Db, tenant: string, customer?: string, noted: readonly NotedExposure[] = []): Promise<FirstVariant[]> {
  const { rows } = await db.query<FirstVariant>(
    `SELECT DISTINCT ON (x.customer, x.experiment) x.customer, x.experiment, x.variant
     FROM (SELECT p.customer, x.experiment_id AS experiment, x.variant, x.exposed_at, x.request_id
           FROM (SELECT alias_id AS id, customer_id AS customer FROM identity_links WHERE tenant_id = $1 AND ($2::text IS NULL OR customer_id = $2)
                 UNION SELECT customer_id, customer_id FROM identity_links WHERE tenant_id = $1 AND ($2::text IS NULL OR customer_id = $2)) p
           JOIN exposures x ON x.tenant_id = $1 AND x.user_id = p.id
           UNION ALL
           SELECT $2, n.experiment, n.variant, n.exposed_at, '' FROM jsonb_to_recordset($3::jsonb) AS n(experiment text, variant text, exposed_at timestamptz)) x
     JOIN experiments e ON e.tenant_id = $1 AND e.id = x.experiment AND e.status = 'running'
     ORDER BY x.customer, x.experiment, x.exposed_at, x.request_id`,
    [tenant, customer ?? null, JSON.stringify(noted.map((n) => ({ experiment: n.experiment, variant: n.variant, exposed_at: n.exposedAt.toISOString() })))],
  );
  return rows;
}
