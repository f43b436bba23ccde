// Linked ids in Redis (docs/identity.md). A linked id's marker (keys.alias), in its own slot,
// turns every script reading or writing its keys towards its customer: the history read
// (user-history.ts), the one writer (user-writes.ts), the mail memory (mail-memory.ts). Linking
// moves what the linked id's keys hold into the customer's in an order that loses and doubles
// nothing on a Redis Cluster, where the two ids' keys sit in different slots and no script can
// hold both:
//   1. mark: one script in the linked id's slot sets the marker and takes what its lists hold;
//      from then on no write lands in them (every writer checks the marker in its own script);
//   2. copy: the customer's own writer merges that into the customer's lists, by time and capped
//      as every write; lists keyed by item (views, purchases) and by item and day (occasions)
//      make a copy done twice count once;
//   3. mails: each mail of the linked id is merged into the customer's same mail, then deleted;
//   4. drop: the linked id's lists go, in its slot, while the marker still names that customer.
// Each step checks the tombstone of the user whose keys it writes: an erasure meanwhile wins.
import { ID_SEPARATOR as SEPARATOR, type UserActivity } from './user-writes.ts';
import type { Keys } from './keys.ts';
import { luaCommand, scanEach, type RedisClient } from './client.ts';
import { flagsMarker } from './user-flags.ts';

// KEYS: tombstone, alias marker, recently viewed, purchases, occasions. ARGV: customer, separator.
// Reply: the three lists WITHSCORES, each joined by the separator; false when the id was erased.
const markScript = luaCommand<[erased: string, alias: string, viewed: string, bought: string, occasions: string, customer: string, separator: string], [string, string, string] | null>(
  'recsMarkLinked',
  5,
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
redis.call('SET', KEYS[2], ARGV[1])
return {table.concat(redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES'), ARGV[2]),
  table.concat(redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES'), ARGV[2]),
  table.concat(redis.call('ZRANGE', KEYS[5], 0, -1, 'WITHSCORES'), ARGV[2])}`,
);

// KEYS: alias marker, then the linked id's lists. ARGV: customer. Deletes them while the marker
// names that customer (an unlink meanwhile keeps them: they are the id's own again).
const dropScript = luaCommand<string[], number>(
  'recsDropLinked',
  6,
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('UNLINK', unpack(KEYS, 2))`,
);

// KEYS: alias marker. ARGV: customer. Deletes it while it names that customer (a link to another
// made meanwhile keeps its own). Reply: 1 deleted, 0 not.
const unmarkScript = luaCommand<[alias: string, customer: string], number>(
  'recsUnmarkLinked',
  1,
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`,
);

// KEYS: a linked id's mail. Reply: its remaining ms to live, then its fields and values.
const mailScript = luaCommand<[mail: string], (string | number)[]>(
  'recsReadMail',
  1,
  `
local reply = redis.call('HGETALL', KEYS[1])
table.insert(reply, 1, redis.call('PTTL', KEYS[1]))
return reply`,
);

// KEYS: tombstone, the customer's mail. ARGV: ms to live, then fields and values. A block the
// customer's mail holds already wins (HSETNX); the mail lives as long as the longer of the two.
const mergeMailScript = luaCommand<(string | number)[], number>(
  'recsMergeMail',
  2,
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return 1`,
);

// KEYS: tombstone, variants. ARGV: experiment, variant pairs: the customer's whole set.
const variantsScript = luaCommand<(string | number)[], number>(
  'recsSetVariants',
  2,
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
if #ARGV > 0 then redis.call('HSET', KEYS[2], unpack(ARGV)) end
return 1`,
);

// KEYS: flags marker, alias marker, variants. ARGV: experiment ('' for none). Reply: {0, customer
// or '', variant or ''}, or {2} while the flags (and so the markers) are missing.
const identityScript = luaCommand<[synced: string, alias: string, variants: string, experiment: string], [0, string, string] | [2]>(
  'recsIdentity',
  3,
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return {2} end
local customer = redis.call('GET', KEYS[2])
if customer then return {0, customer, ''} end
if ARGV[1] == '' then return {0, '', ''} end
return {0, '', redis.call('HGET', KEYS[3], ARGV[1]) or ''}`,
);

const pairs = (flat: string) => {
  const parts = flat === '' ? [] : flat.split(SEPARATOR);
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) out.push([parts[i], Number(parts[i + 1])]);
  return out;
};

/**
 * Step 1: marks `alias` as `customer`'s and returns what its lists hold, as the activity the
 * customer's writer merges (purchases from the purchases ZSET, scored −time, and from the
 * occasions, each `item\nday`: their times make the same members again). Null: it was erased.
 */
export async function markLinked(redis: RedisClient, keys: Keys, alias: string, customer: string): Promise<UserActivity | null> {
  const lists = await markScript(redis, keys.erased(alias), keys.alias(alias), keys.recentlyViewed(alias), keys.bought(alias), keys.occasions(alias), customer, SEPARATOR);
  if (lists === null) return null;
  const [viewed, bought, occasions] = lists;
  // An occasion's member is item, separator, day; WITHSCORES adds its time: three fields each.
  const parts = occasions === '' ? [] : occasions.split(SEPARATOR);
  const days: [string, number][] = [];
  for (let i = 0; i + 2 < parts.length; i += 3) days.push([parts[i], Number(parts[i + 2])]);
  return { user: customer, viewed: pairs(viewed), bought: [...pairs(bought).map(([item, score]): [string, number] => [item, -score]), ...days] };
}

/** Step 3: merges every mail of `alias` into the customer's same mail, then deletes it; how many. */
export async function moveMails(redis: RedisClient, keys: Keys, alias: string, customer: string): Promise<number> {
  const from = keys.mail(alias, '');
  const to = keys.mail(customer, '');
  let moved = 0;
  for await (const { keys: mails } of scanEach(redis, keys.userMailPattern(alias))) {
    for (const mail of mails) {
      const [ttl, ...fields] = await mailScript(redis, mail);
      // A mail that expired meanwhile (or never had a TTL: no writer leaves one so) is not copied.
      if (fields.length > 0 && Number(ttl) > 0) moved += await mergeMailScript(redis, keys.erased(customer), to + mail.slice(from.length), Number(ttl), ...fields);
      await redis.unlink(mail);
    }
  }
  return moved;
}

/** Step 4: the linked id's lists (and lifecycle facts) go, while its marker still names `customer`. */
export function dropLinked(redis: RedisClient, keys: Keys, alias: string, customer: string): Promise<number> {
  return dropScript(redis, keys.alias(alias), keys.recentlyViewed(alias), keys.bought(alias), keys.boughtIds(alias), keys.occasions(alias), keys.profile(alias), customer);
}

/** An unlink: the marker goes, while it names `customer`. */
export async function unmarkLinked(redis: RedisClient, keys: Keys, alias: string, customer: string): Promise<void> {
  await unmarkScript(redis, keys.alias(alias), customer);
}

/** The variant the customer keeps in each experiment (replacing what was set); nothing for an erased customer. */
export async function setVariants(redis: RedisClient, keys: Keys, customer: string, variants: readonly { experiment: string; variant: string }[]): Promise<void> {
  await variantsScript(redis, keys.erased(customer), keys.variants(customer), ...variants.flatMap((v) => [v.experiment, v.variant]));
}

/**
 * Whose data a request about `user` reads: their customer when they are a linked id, else
 * themselves; null while Redis lost the flags (the markers with them) and they are being copied
 * back (src/privacy/flags.ts). One round trip.
 */
export async function canonicalUser(redis: RedisClient, keys: Keys, user: string): Promise<string | null> {
  const reply = await identityScript(redis, flagsMarker(redis, keys, user), keys.alias(user), keys.variants(user), '');
  if (reply[0] === 2) return null;
  return reply[1] === '' ? user : reply[1];
}

/**
 * The customer `user` counts for in `experiment`, and the variant that customer keeps there
 * (null: none stored, the hash decides); null while the flags are missing. One round trip, two
 * for a linked id (its customer's variants are in the customer's slot).
 */
export async function experimentIdentity(redis: RedisClient, keys: Keys, user: string, experiment: string): Promise<{ user: string; variant: string | null } | null> {
  let reply = await identityScript(redis, flagsMarker(redis, keys, user), keys.alias(user), keys.variants(user), experiment);
  if (reply[0] === 2) return null;
  if (reply[1] === '') return { user, variant: reply[2] === '' ? null : reply[2] };
  const customer = reply[1];
  reply = await identityScript(redis, flagsMarker(redis, keys, customer), keys.alias(customer), keys.variants(customer), experiment);
  // A second hop (Redis lagging PostgreSQL): the customer's own hash decides.
  if (reply[0] === 2) return null;
  return { user: customer, variant: reply[1] === '' && reply[2] !== '' ? reply[2] : null };
}
