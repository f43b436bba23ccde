// Each user's lists as the API mirrors them in Redis (recently viewed, purchase occasions), read
// from PostgreSQL, the truth: every user's by the build's users stage, a few users' by an unlink
// (src/privacy/identities.ts). An event of a linked id counts for its customer
// (src/store/pg/identities.ts), so a customer's lists hold what every id of theirs did.
import type pg from 'pg';
import { copyOut } from './copy-out.ts';
import { linkJoin, personOf } from './identities.ts';
import type { Tx } from './user-locks.ts';

export interface UserLists {
  user: string;
  /** [item, view time in ms], newest first. */
  viewed: [string, number][];
  /** [item, latest purchase time in ms] per item and UTC day it was bought (a purchase occasion). */
  bought: [string, number][];
}

/**
 * Each customer's most recent distinct viewed items (capped) and purchase occasions (each item per
 * UTC day, with its latest time), one set-based query sorted by customer. $1: the tenant; with
 * `only`, $2: the ids (linked ids included) whose events are read.
 */
function listsQuery(recentCap: number, only: boolean): string {
  const events = (type: string) => `SELECT ${personOf('e')} AS user_id, e.item_id, e.occurred_at FROM events e ${linkJoin('e')}
    WHERE e.tenant_id = $1 AND e.type = '${type}'${only ? ' AND e.user_id = ANY($2::text[])' : ''}`;
  return `WITH views AS (
      SELECT user_id, item_id, max(occurred_at) AS t FROM (${events('view')}) v GROUP BY 1, 2
    ), recent AS (
      SELECT user_id, item_id, t, row_number() OVER (PARTITION BY user_id ORDER BY t DESC, item_id) AS rank FROM views
    ), lists AS (
      SELECT user_id, 'v' AS kind, item_id, (extract(epoch FROM t) * 1000)::bigint AS ms, rank FROM recent WHERE rank <= ${Math.trunc(recentCap)}
      UNION ALL
      SELECT user_id, 'b', item_id, (extract(epoch FROM max(occurred_at)) * 1000)::bigint, 0::bigint FROM (${events('purchase')}) p
      GROUP BY 1, 3, (occurred_at AT TIME ZONE 'UTC')::date
    )
    SELECT user_id, kind, item_id, ms FROM lists
    WHERE user_id NOT IN (SELECT id FROM users WHERE tenant_id = $1 AND deleted_at IS NOT NULL)
    ORDER BY user_id, kind DESC, rank`;
}

/** Rows sorted by user → one UserLists per user, streamed. */
async function* grouped(rows: AsyncIterable<(string | null)[]> | Iterable<(string | null)[]>): AsyncIterable<UserLists> {
  let current = null as UserLists | null;
  for await (const [user, kind, item, ms] of rows) {
    if (current?.user !== user) {
      if (current) yield current;
      current = { user: user!, viewed: [], bought: [] };
    }
    if (kind === 'v') current.viewed.push([item!, Number(ms)]);
    else current.bought.push([item!, Number(ms)]);
  }
  if (current) yield current;
}

/** Every customer's lists of the tenant, one at a time with flat memory (COPY out). */
export async function* loadUserLists(pool: pg.Pool, tenant: string, recentCap: number): AsyncIterable<UserLists> {
  const client = await pool.connect();
  try {
    yield* grouped(copyOut(client, listsQuery(recentCap, false), [tenant]));
  } finally {
    client.release();
  }
}

/** The lists of the customers the events of `ids` count for (every id of theirs among `ids`). */
export async function userListsOf(tx: Tx, tenant: string, recentCap: number, ids: readonly string[]): Promise<UserLists[]> {
  const { rows } = await tx.query<{ user_id: string; kind: string; item_id: string; ms: string }>(listsQuery(recentCap, true), [tenant, ids]);
  const lists: UserLists[] = [];
  for await (const l of grouped(rows.map((r) => [r.user_id, r.kind, r.item_id, r.ms]))) lists.push(l);
  return lists;
}
