// A user's history in one Redis command: a Lua script reads the opt-out flag, the latest views
// and (when asked) the purchases, and returns each list as one string. The client then decodes
// three replies, not one per id: for a big buyer (hundreds of purchases) that decoding, through
// a pipeline, had cost more than all the rest of a per-user block.
import type { HistoryWanted, Purchase, UserHistory, ViewedItem } from '../../recommend/types.ts';
import type { Keys } from './keys.ts';
import { luaCommand, type RedisClient } from './client.ts';
import { flagsMarker } from './user-flags.ts';
import { ID_SEPARATOR as SEPARATOR } from './user-writes.ts';

// 2: the flags are missing (Redis lost its data, src/store/redis/user-flags.ts; KEYS[5] is the
// marker, of the user's slot on a Cluster): whether the user opted out is unknown, so nothing of
// theirs is read. 3: the user is a linked id (KEYS[7], docs/identity.md): the reply names their
// customer, whose history the caller reads instead (another slot on a Cluster); an id that is not
// linked costs nothing more than this EXISTS-like GET. The purchases come joined already
// (user-writes.ts); those an older version wrote have no joined copy yet: they are joined here.
// The purchase occasions (buy-again) come as one string too: item, day and time per occasion.
const HISTORY_SCRIPT = `
if redis.call('EXISTS', KEYS[5]) == 0 then return {2, '', '', ''} end
local customer = redis.call('GET', KEYS[7])
if customer then return {3, customer, '', ''} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, '', '', ''} end
local viewed = redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local bought = ''
if ARGV[2] == '1' then
  bought = redis.call('GET', KEYS[4]) or table.concat(redis.call('ZRANGE', KEYS[3], 0, -1), ARGV[3])
end
local occasions = ''
if ARGV[4] == '1' then occasions = table.concat(redis.call('ZRANGE', KEYS[6], 0, -1, 'WITHSCORES'), ARGV[3]) end
return {0, table.concat(viewed, ARGV[3]), bought, occasions}`;

type HistoryReply = [state: 0 | 1 | 2 | 3, viewed: string, bought: string, occasions: string];
const historyScript = luaCommand<
  [
    optOutKey: string,
    viewedKey: string,
    boughtKey: string,
    boughtIdsKey: string,
    flagsMarker: string,
    occasionsKey: string,
    aliasKey: string,
    viewedLimit: number,
    withBought: 0 | 1,
    separator: string,
    withOccasions: 0 | 1,
  ],
  HistoryReply
>('recsHistory', 7, HISTORY_SCRIPT);

const OPTED_OUT: UserHistory = { viewed: [], bought: [], optedOut: true };
const WITHHELD: UserHistory = { viewed: [], bought: [], withheld: true };

/**
 * The user's latest `wanted.viewed` views and, when asked, every purchase, both newest first
 * (purchases at the same time: smaller id first), and their purchase occasions (oldest first).
 * A linked id's are their customer's (one more round trip, for linked ids only).
 */
export function readHistory(redis: RedisClient, keys: Keys, user: string, wanted: HistoryWanted): Promise<UserHistory> {
  return read(redis, keys, user, wanted, false);
}

/** The user's keys the history script reads, in its KEYS order but for the flags marker (KEYS[5]). */
function userKeysRead(keys: Keys, user: string): [optOut: string, viewed: string, bought: string, boughtIds: string, occasions: string, alias: string] {
  return [keys.optOut(user), keys.recentlyViewed(user), keys.bought(user), keys.boughtIds(user), keys.occasions(user), keys.alias(user)];
}

/**
 * What a history read depends on, as key prefixes (src/store/redis/key-tracking.ts): those of the
 * user keys it reads (each then names its user by its hash tag), and the flags markers'.
 */
export function historyKeyPrefixes(keys: Keys): { users: string[]; markers: string[] } {
  return { users: userKeysRead(keys, 'x').map((key) => key.slice(0, key.indexOf('{'))), markers: [keys.flagsSynced] };
}

async function read(redis: RedisClient, keys: Keys, user: string, wanted: HistoryWanted, redirected: boolean): Promise<UserHistory> {
  const [optOutKey, viewedKey, boughtKey, boughtIdsKey, occasionsKey, aliasKey] = userKeysRead(keys, user);
  const [state, viewedFlat, bought, occasionsFlat] = await historyScript(
    redis,
    optOutKey,
    viewedKey,
    boughtKey,
    boughtIdsKey,
    flagsMarker(redis, keys, user),
    occasionsKey,
    aliasKey,
    wanted.viewed,
    wanted.bought ? 1 : 0,
    SEPARATOR,
    wanted.purchases ? 1 : 0,
  );
  if (state === 1) return OPTED_OUT;
  if (state === 2) return WITHHELD;
  // A customer is never a linked id (src/identity/links.ts): a second hop is Redis lagging
  // PostgreSQL for a moment, and is answered without anyone's history rather than followed.
  if (state === 3) return redirected ? WITHHELD : { ...(await read(redis, keys, viewedFlat, wanted, true)), customer: viewedFlat };
  const flat = viewedFlat === '' ? [] : viewedFlat.split(SEPARATOR);
  const viewed: ViewedItem[] = [];
  for (let i = 0; i < flat.length; i += 2) viewed.push({ id: flat[i], at: Number(flat[i + 1]) });
  const history: UserHistory = { viewed, bought: bought === '' ? [] : bought.split(SEPARATOR) };
  if (wanted.purchases) {
    // Each occasion is three fields: its member's item and day, then its time.
    const parts = occasionsFlat === '' ? [] : occasionsFlat.split(SEPARATOR);
    const purchases: Purchase[] = [];
    for (let i = 0; i + 2 < parts.length; i += 3) purchases.push({ id: parts[i], at: Number(parts[i + 2]) });
    history.purchases = purchases;
  }
  return history;
}
