// The build's lifecycle stage, per tenant: every customer's profile (summary, RFM segment,
// BG/NBD and Gamma–Gamma predictions, due buy-again items) from the tenant's purchases in
// PostgreSQL, stored as the current profiles with the segment moves since the last build, and
// the facts requests need copied into Redis. Opted-out and erased users get no profile; one
// erased while the stage runs gets none either (see replaceProfiles and the end of the stage).
import type pg from 'pg';
import type { Interactions } from '../../src/cf/interactions.ts';
import { repeatLookup, repeatStats, type RepeatLookup } from '../../src/cf/repeat/stats.ts';
import type { BuyAgainParams } from '../../src/cf/repeat/buy-again.ts';
import type { Purchase as ItemPurchase } from '../../src/cf/repeat/occasions.ts';
import type { BgNbdParams } from '../../src/lifecycle/bgnbd.ts';
import { customerProfiles } from '../../src/lifecycle/profiles.ts';
import { dayOf, isoDay, purchaseDays, type Purchase } from '../../src/lifecycle/purchase-days.ts';
import { dueItems, nextDueDays } from '../../src/lifecycle/replenishment.ts';
import { segmentCounts, type Segment } from '../../src/lifecycle/rfm.ts';
import type { ModelData } from '../../src/model/model.ts';
import { purchaseRows } from '../../src/model/repeat.ts';
import { copyOut } from '../../src/store/pg/copy-out.ts';
import { linkJoin, personOf } from '../../src/store/pg/identities.ts';
import { replaceProfiles, type StoredProfile } from '../../src/store/pg/lifecycle.ts';
import { erasedSince } from '../../src/store/pg/user-locks.ts';
import { Batch, execOrThrow, type RedisClient } from '../../src/store/redis/client.ts';
import type { Keys } from '../../src/store/redis/keys.ts';
import { deleteProfiles, queueProfileWrite } from '../../src/store/redis/profiles.ts';
import { InFlight, WRITES_IN_FLIGHT } from './in-flight.ts';
import { EXCLUDED_USERS } from './load-events.ts';
import { SECONDS_PER_DAY } from '../../src/lib/time.ts';

export interface LifecycleStageInput {
  /** Writes (profiles, tombstone checks); `reads` is where purchases are read (a replica, maybe). */
  pool: pg.Pool;
  reads: pg.Pool;
  redis: RedisClient;
  keys: Keys;
  tenant: string;
  /** The model version the profiles are stored under. */
  version: number;
  /** The build's interactions: their purchases are what buy-again scores. */
  interactions: Interactions;
  /** Buy-again's model of this build; without it, due items are the customers' own re-bought items. */
  repeat: ModelData['repeat'];
  /** TTL of the Redis copies (USER_KEY_TTL_SECONDS): a tenant no longer built lets them lapse. */
  ttlSeconds: number;
}

export interface LifecycleSummary {
  customers: number;
  repeatBuyers: number;
  /** Reference day (YYYY-MM-DD): the tenant's newest purchase. */
  asOf: string | null;
  /** Segment moves recorded by this build (first profiles included). */
  moves: number;
  segments: Record<Segment, number>;
  bgnbd: (BgNbdParams & { converged: boolean }) | null;
}

/**
 * Each customer's distinct purchase days with the day's revenue (quantity × price; returns and
 * negative prices left out), summed in PostgreSQL: a few rows per customer reach the build. A
 * linked id's purchases are its customer's (src/store/pg/identities.ts).
 */
async function loadPurchases(pool: pg.Pool, tenant: string): Promise<Purchase[]> {
  const client = await pool.connect();
  try {
    const purchases: Purchase[] = [];
    const rows = copyOut(
      client,
      `SELECT ${personOf('e')}, floor(extract(epoch FROM e.occurred_at) / ${SECONDS_PER_DAY})::int, sum(e.quantity * coalesce(e.price, 0))::float8
      FROM events e ${linkJoin('e')} WHERE e.tenant_id = $1 AND e.type = 'purchase' AND e.quantity > 0 AND (e.price IS NULL OR e.price >= 0) AND e.occurred_at <= now()
        AND e.user_id NOT IN (${EXCLUDED_USERS})
      GROUP BY 1, 2`,
      [tenant],
    );
    for await (const [user, day, revenue] of rows) purchases.push({ user: user!, ts: Number(day) * SECONDS_PER_DAY, revenue: Number(revenue) });
    return purchases;
  } finally {
    client.release();
  }
}

/** Each user's purchases in the interactions (item, time), by user id. */
function purchasesByUser(x: Interactions): Map<string, ItemPurchase<string>[]> {
  const p = purchaseRows(x);
  const byUser = new Map<string, ItemPurchase<string>[]>();
  for (let r = 0; r < p.users.length; r++) {
    const user = p.userIds[p.users[r]];
    let list = byUser.get(user);
    if (list === undefined) byUser.set(user, (list = []));
    list.push({ item: p.itemIds[p.items[r]], ts: p.times[r] });
  }
  return byUser;
}

export async function runLifecycleStage(s: LifecycleStageInput): Promise<LifecycleSummary> {
  const startedAt = (await s.pool.query<{ now: Date }>('SELECT now()')).rows[0].now;
  const days = purchaseDays(await loadPurchases(s.reads, s.tenant));
  const asOfDay = days.day.length > 0 ? days.day.reduce((a, b) => Math.max(a, b)) : dayOf(Date.now() / 1000);
  const { fit, profiles } = customerProfiles(days, asOfDay);

  // Due items as of the end of the reference day, with this build's buy-again model when it has one.
  const purchases = purchasesByUser(s.interactions);
  const [lookup, params]: [RepeatLookup, BuyAgainParams | null] = s.repeat
    ? [{ globals: s.repeat.model.globals, item: (id) => s.repeat!.items.get(id) }, s.repeat.model.params]
    : [repeatLookup(repeatStats(purchaseRows(s.interactions))), null];
  const now = (asOfDay + 1) * SECONDS_PER_DAY;
  const stored: StoredProfile[] = profiles.map((p) => {
    const own = purchases.get(p.user);
    return { ...p, dueItems: own ? dueItems(own, lookup, params, now) : [] };
  });

  const replaced = await replaceProfiles(s.pool, s.tenant, s.version, stored, fit);
  const written = stored.filter((p) => !replaced.excluded.has(p.user));
  let batch = new Batch(s.redis);
  const writes = new InFlight(WRITES_IN_FLIGHT);
  for (const p of written) {
    queueProfileWrite(batch, s.keys, s.ttlSeconds, p.user, s.version, {
      segment: p.segment,
      pAlive: p.pAlive,
      recencyDays: p.recencyDays,
      meanGapDays: p.meanGapDays,
      revenue: p.revenue,
      nextDueDays: nextDueDays(p.dueItems),
    });
    if (batch.length >= 1000) {
      await writes.add(execOrThrow(batch).then(() => undefined));
      batch = new Batch(s.redis);
    }
  }
  await writes.add(execOrThrow(batch).then(() => undefined));
  await writes.drain();
  await deleteProfiles(s.redis, s.keys, replaced.removed);
  // The write script skips users whose Redis tombstone is set; an erasure whose PostgreSQL
  // step committed after the profiles were stored and whose Redis step is still to come
  // deletes the profile itself. Belt and braces for the window between, as the users stage.
  await deleteProfiles(s.redis, s.keys, await erasedSince(s.pool, s.tenant, new Date(startedAt.getTime() - 60_000)));

  const bg = fit.bgnbd;
  return {
    customers: written.length,
    repeatBuyers: fit.repeatBuyers,
    asOf: days.day.length > 0 ? isoDay(asOfDay) : null,
    moves: replaced.moves,
    segments: segmentCounts(written.map((p) => p.segment)),
    bgnbd: bg && { ...bg.params, converged: bg.converged },
  };
}
