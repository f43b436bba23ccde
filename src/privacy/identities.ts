// Linking an anonymous or device id to a customer, and unlinking it (docs/identity.md), across
// both stores. Each runs in two steps, each holding both ids' locks exclusively (as erasure does,
// src/store/pg/user-locks.ts): PostgreSQL first, the truth; then Redis is brought to what
// PostgreSQL holds by then. A change of either id meanwhile (an unlink, an erasure) makes the
// second step of this one do nothing: the later change brings Redis along itself. A Redis that
// fails in the second step leaves PostgreSQL right; the same call again (idempotent) finishes it,
// as does the next build (it copies the markers and rewrites every customer's lists).
import type pg from 'pg';
import { linkRefusal, unlinkRefusal } from '../identity/links.ts';
import { asPerson, asPersons, deleteLink, firstVariants, insertLink, linkOf, linkState, personIds, readPerson } from '../store/pg/identities.ts';
import { eraseAsOwner } from '../store/pg/user-locks.ts';
import { upsertOptOut } from '../store/pg/users.ts';
import { userListsOf } from '../store/pg/user-lists.ts';
import type { RedisClient } from '../store/redis/client.ts';
import { notedExposures } from '../store/redis/exposures.ts';
import { dropLinked, markLinked, moveMails, setVariants, unmarkLinked } from '../store/redis/identities.ts';
import { writeActivities, type UserKeyLimits } from '../store/redis/user-writes.ts';
import type { TenantScope } from './users.ts';

/** What the linked id's Redis keys held and went to the customer's. */
export interface Merged {
  viewed: number;
  purchases: number;
  mails: number;
}

export interface Linked {
  /** false: the link was there already (the call finished what an earlier one may have left). */
  created: boolean;
  /** Null when the link changed before Redis was brought along (the change did it), or the id was erased. */
  merged: Merged | null;
}

/**
 * Links `anonymous` to `customer`: refused (an HttpError naming the field) by the rules of
 * src/identity/links.ts, with nothing changed. A choice to opt out made by either side is the
 * customer's from then on, for every id of theirs. The customer keeps, in each running
 * experiment, the variant first served to any of their ids, including exposures noted in Redis
 * that no API process has written to PostgreSQL yet.
 */
export async function linkIdentity(pool: pg.Pool, redis: RedisClient, t: TenantScope, limits: UserKeyLimits, anonymous: string, customer: string): Promise<Linked> {
  const created = await eraseAsOwner(pool, t.id, [anonymous, customer], async (tx) => {
    const state = await linkState(tx, t.id, anonymous, customer);
    const refusal = linkRefusal(anonymous, customer, state);
    if (refusal !== null) throw refusal;
    const isNew = state.anonymousLinkedTo === null;
    if (isNew) await insertLink(tx, t.id, anonymous, customer);
    if (state.optedOut) await upsertOptOut(tx, t.id, personIds(await readPerson(tx, t.id, customer)), true);
    return isNew;
  });
  const merged = await eraseAsOwner(pool, t.id, [anonymous, customer], async (tx) => {
    if ((await linkOf(tx, t.id, anonymous)) !== customer) return null;
    const ids = personIds(await readPerson(tx, t.id, customer));
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 AND id = ANY($2::text[]) AND personalization_opt_out', [t.id, ids]);
    // Exposures an API process still buffers are not in PostgreSQL yet: their notes in Redis are.
    const noted = (await Promise.all(ids.map((id) => notedExposures(redis, t.keys, id)))).flat();
    return mergeInRedis(
      redis,
      t,
      limits,
      anonymous,
      customer,
      rows.map((r) => r.id),
      await firstVariants(tx, t.id, customer, noted),
    );
  });
  return { created, merged };
}

/** The Redis half of a link, in the order of src/store/redis/identities.ts. */
async function mergeInRedis(
  redis: RedisClient,
  t: TenantScope,
  limits: UserKeyLimits,
  anonymous: string,
  customer: string,
  optedOut: string[],
  variants: { experiment: string; variant: string }[],
): Promise<Merged | null> {
  // The opt-out before anything moves: no read of the customer may use what it now covers.
  await Promise.all(optedOut.map((id) => redis.set(t.keys.optOut(id), '1')));
  const lists = await markLinked(redis, t.keys, anonymous, customer);
  if (lists === null) return null;
  await writeActivities(redis, t.keys, limits, [lists]);
  await setVariants(redis, t.keys, customer, variants);
  const mails = await moveMails(redis, t.keys, anonymous, customer);
  await dropLinked(redis, t.keys, anonymous, customer);
  return { viewed: lists.viewed.length, purchases: new Set(lists.bought.map(([item]) => item)).size, mails };
}

/**
 * Unlinks `alias` from its customer (a customer itself is refused: its ids are unlinked one by
 * one). Both go back to their own events in Redis: their lists are rewritten from PostgreSQL,
 * where the alias's events were always stored under its own id. What else the customer gained
 * stays theirs: the mails' memory (it expires), the variants they keep, an opt-out. Returns the
 * customer it was linked to (null: none; idempotent).
 */
export async function unlinkIdentity(pool: pg.Pool, redis: RedisClient, t: TenantScope, limits: UserKeyLimits, alias: string): Promise<string | null> {
  const customer = await asPerson(pool, t.id, alias, async (tx, person) => {
    if (person.customer !== alias) return deleteLink(tx, t.id, alias);
    const refusal = unlinkRefusal(person.linked.length > 0);
    if (refusal !== null) throw refusal;
    return null;
  });
  // Redis's marker too: an unlink whose Redis step failed before is finished by this one.
  const marked = await redis.get(t.keys.alias(alias));
  const customers = [...new Set([customer, marked].filter((c): c is string => c !== null))];
  if (customers.length === 0) return customer;
  await asPersons(pool, t.id, [alias, ...customers], async (tx, [own, ...formers]) => {
    for (const c of customers) await unmarkLinked(redis, t.keys, alias, c);
    // Linked again meanwhile (to another customer): its lists are that link's to move.
    const unlinked = own.customer === alias;
    const rewritten = [...(unlinked ? [alias] : []), ...customers];
    const lists = await userListsOf(tx, t.id, limits.recentlyViewedCap, [...(unlinked ? [alias] : []), ...formers.flatMap(personIds)]);
    // Who has no event left gets empty lists: `replace` clears what the link had merged in.
    const empty = rewritten.filter((id) => !lists.some((l) => l.user === id)).map((user) => ({ user, viewed: [], bought: [] }));
    await writeActivities(redis, t.keys, limits, [...lists.filter((l) => rewritten.includes(l.user)), ...empty], false, true);
  });
  return customer;
}
