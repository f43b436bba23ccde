// The one writer of a user's Redis keys: the events API, the build's users stage and identity
// links all go through writeActivities. One script per user checks the erasure tombstone (and
// whether the user is a linked id, whose writes go to their customer) and writes in the same
// atomic step, so erasure wins every race: a write that comes after the tombstone writes nothing,
// one that came before is deleted by the erasure (src/privacy/users.ts).
//
// A user's purchases are kept twice: a ZSET scored by −time (the record: it merges late and
// repeated purchases, the newest time winning) and its members, newest first, joined into one
// string (what a request reads, src/store/redis/user-history.ts). Joining a ZSET of hundreds of ids
// inside the read script had cost Redis ~25 µs per personalised request on the bench VM, a
// 1,785-purchase buyer's read ~430 → ~50 µs; a GET of the ready string costs ~2 µs.
import type { ChainableCommander } from 'ioredis';
import type { Config } from '../../config.ts';
import { Batch, execOrThrow, type RedisClient } from './client.ts';
import type { Keys } from './keys.ts';
import { DAY_MS } from '../../lib/time.ts';

/** Ids never contain control characters (src/ids.ts), so "\n" separates them safely. */
export const ID_SEPARATOR = '\n';

// KEYS: tombstone, recently viewed, purchases ZSET, purchases joined, purchase occasions, alias
// marker, then retired keys to delete. ARGV: ttl, recently-viewed cap, separator, number of
// views, number of purchases, occasions cap, replace ('1': the lists are rewritten, not merged
// into), then (time ms, item) per view, (−time ms, item) per purchase and (time ms, "item\nday")
// per purchase. ZADD in slices: Lua's unpack() refuses a few thousand values at once (the build
// may pass a big buyer's whole history). Reply: 1 written, 0 erased (nothing written), or the
// customer id when the user is a linked id (nothing written: the caller writes to the customer,
// docs/identity.md). Sent as EVAL inside the writers' pipelines: writes are rare next to reads.
const WRITE_USER = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local customer = redis.call('GET', KEYS[6])
if customer then return customer end
local ttl, cap, nv, np = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4]), tonumber(ARGV[5])
if ARGV[7] == '1' then redis.call('UNLINK', KEYS[2], KEYS[3], KEYS[4], KEYS[5]) end
local last = 7 + 2 * nv
if nv > 0 then
  for i = 8, last, 2000 do redis.call('ZADD', KEYS[2], 'GT', unpack(ARGV, i, math.min(i + 1999, last))) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(cap + 1))
  redis.call('EXPIRE', KEYS[2], ttl)
end
if np > 0 then
  local first = last + 1
  last = last + 2 * np
  for i = first, last, 2000 do redis.call('ZADD', KEYS[3], 'LT', unpack(ARGV, i, math.min(i + 1999, last))) end
  redis.call('EXPIRE', KEYS[3], ttl)
  redis.call('SET', KEYS[4], table.concat(redis.call('ZRANGE', KEYS[3], 0, -1), ARGV[3]), 'EX', ttl)
  first = last + 1
  last = last + 2 * np
  for i = first, last, 2000 do redis.call('ZADD', KEYS[5], 'GT', unpack(ARGV, i, math.min(i + 1999, last))) end
  redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -(tonumber(ARGV[6]) + 1))
  redis.call('EXPIRE', KEYS[5], ttl)
end
for k = 7, #KEYS do redis.call('UNLINK', KEYS[k]) end
return 1`;

/** A purchase occasion's member: the item and its UTC day (buy-again counts one purchase per item and day). */
export function occasionMember(item: string, ms: number): string {
  return `${item}${ID_SEPARATOR}${Math.floor(ms / DAY_MS)}`;
}

export interface UserActivity {
  user: string;
  /** [item, view time ms]: GT keeps the newest time of an item, so a late older view never pushes a newer one down. */
  viewed: readonly (readonly [item: string, ms: number])[];
  /** [item, purchase time ms], one or more per item: LT keeps the newest time in the purchases (scores are −time); each day is an occasion. */
  bought: readonly (readonly [item: string, ms: number])[];
}

export interface UserKeyLimits {
  recentlyViewedCap: number;
  purchaseOccasionsCap: number;
  ttlSeconds: number;
}

export function userKeyLimits(config: Pick<Config, 'recentlyViewedCap' | 'purchaseOccasionsCap' | 'userKeyTtlSeconds'>): UserKeyLimits {
  return { recentlyViewedCap: config.recentlyViewedCap, purchaseOccasionsCap: config.purchaseOccasionsCap, ttlSeconds: config.userKeyTtlSeconds };
}

/**
 * Queues one user's write on a batch (the pipeline of the user's node) or a pipeline;
 * `dropRetired` also deletes keys of older layouts (the build); `replace` rewrites the user's
 * lists with `a` alone (an unlink, src/privacy/identities.ts) instead of merging `a` into them.
 */
export function queueUserWrite(target: Batch | ChainableCommander, keys: Keys, limits: UserKeyLimits, a: UserActivity, dropRetired = false, replace = false): void {
  const userKeys = [
    keys.erased(a.user),
    keys.recentlyViewed(a.user),
    keys.bought(a.user),
    keys.boughtIds(a.user),
    keys.occasions(a.user),
    keys.alias(a.user),
    ...(dropRetired ? keys.retiredUserKeys(a.user) : []),
  ];
  const args: (string | number)[] = [limits.ttlSeconds, limits.recentlyViewedCap, ID_SEPARATOR, a.viewed.length, a.bought.length, limits.purchaseOccasionsCap, replace ? 1 : 0];
  for (const [item, ms] of a.viewed) args.push(ms, item);
  for (const [item, ms] of a.bought) args.push(-ms, item);
  for (const [item, ms] of a.bought) args.push(ms, occasionMember(item, ms));
  const write = (pipeline: ChainableCommander) => pipeline.eval(WRITE_USER, userKeys.length, ...userKeys, ...args);
  if (target instanceof Batch) target.add(userKeys[0], write);
  else write(target);
}

/**
 * Writes each user's activity with their own script, one round trip (per node) for all. A linked
 * id's is then written to its customer, by the customer's script (on a Cluster another slot, so
 * another step: nothing is lost, since the linked id's lists take no write once its marker is set,
 * src/store/redis/identities.ts). A redirected activity is merged, never `replace`s the customer's.
 * A customer is never a linked id (src/identity/links.ts): a second redirect would be Redis
 * lagging PostgreSQL for a moment, and is not followed (the event is stored; the build writes it).
 */
export async function writeActivities(redis: RedisClient, keys: Keys, limits: UserKeyLimits, activities: readonly UserActivity[], dropRetired = false, replace = false): Promise<void> {
  let pending = activities;
  for (const direct of [true, false]) {
    if (pending.length === 0) return;
    const batch = new Batch(redis);
    for (const a of pending) queueUserWrite(batch, keys, limits, a, dropRetired, replace && direct);
    const replies = await execOrThrow(batch);
    pending = pending.flatMap((a, i) => (typeof replies[i] === 'string' ? [{ ...a, user: replies[i] as string }] : []));
  }
}

/** Groups events by user and writes each user's in one script; one round trip (per node) for the batch. */
export async function writeUsers(redis: RedisClient, keys: Keys, limits: UserKeyLimits, events: readonly { user: string; item: string; type: string; occurredAt: Date }[]): Promise<void> {
  const byUser = new Map<string, { user: string; viewed: [string, number][]; bought: [string, number][] }>();
  for (const e of events) {
    if (e.type !== 'view' && e.type !== 'purchase') continue;
    let a = byUser.get(e.user);
    if (a === undefined) byUser.set(e.user, (a = { user: e.user, viewed: [], bought: [] }));
    (e.type === 'view' ? a.viewed : a.bought).push([e.item, e.occurredAt.getTime()]);
  }
  if (byUser.size > 0) await writeActivities(redis, keys, limits, [...byUser.values()]);
}
