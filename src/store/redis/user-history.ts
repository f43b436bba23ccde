// A user's history in one Redis command: a Lua script reads the opt-out flag, the latest views
// and (when asked) the purchases, and returns each list as one string. The client then decodes
// three replies, not one per id: for a big buyer (hundreds of purchases) that decoding, through
// a pipeline, had cost more than all the rest of a per-user block.
import type { UserHistory, ViewedItem } from '../../recommend/types.ts';
import type { Keys } from './keys.ts';
import { luaCommand, type RedisClient } from './client.ts';
import { flagsMarker } from './user-flags.ts';
import { ID_SEPARATOR as SEPARATOR } from './user-writes.ts';

// 2: the flags are missing (Redis lost its data, src/store/redis/user-flags.ts; KEYS[5] is the
// marker, of the user's slot on a Cluster): whether the user opted out is unknown, so nothing of
// theirs is read. The purchases come joined already (user-writes.ts); those an older version
// wrote have no joined copy yet: they are joined here.
const HISTORY_SCRIPT = `
if redis.call('EXISTS', KEYS[5]) == 0 then return {2, '', ''} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, '', ''} end
local viewed = redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local bought = ''
if ARGV[2] == '1' then
  bought = redis.call('GET', KEYS[4]) or table.concat(redis.call('ZRANGE', KEYS[3], 0, -1), ARGV[3])
end
return {0, table.concat(viewed, ARGV[3]), bought}`;

type HistoryReply = [state: 0 | 1 | 2, viewed: string, bought: string];
const historyScript = luaCommand<[optOutKey: string, viewedKey: string, boughtKey: string, boughtIdsKey: string, flagsMarker: string, viewedLimit: number, withBought: 0 | 1, separator: string], HistoryReply>(
  'recsHistory', 5, HISTORY_SCRIPT);

const OPTED_OUT: UserHistory = { viewed: [], bought: [], optedOut: true };
const WITHHELD: UserHistory = { viewed: [], bought: [], withheld: true };

/**
 * The user's latest `viewedLimit` views and, when `withBought`, every purchase, both newest first
 * (purchases at the same time: smaller id first).
 */
export async function readHistory(redis: RedisClient, keys: Keys, user: string, viewedLimit: number, withBought: boolean): Promise<UserHistory> {
  const [state, viewedFlat, bought] = await historyScript(redis,
    keys.optOut(user), keys.recentlyViewed(user), keys.bought(user), keys.boughtIds(user), flagsMarker(redis, keys, user), viewedLimit, withBought ? 1 : 0, SEPARATOR);
  if (state === 1) return OPTED_OUT;
  if (state === 2) return WITHHELD;
  const flat = viewedFlat === '' ? [] : viewedFlat.split(SEPARATOR);
  const viewed: ViewedItem[] = [];
  for (let i = 0; i < flat.length; i += 2) viewed.push({ id: flat[i], at: Number(flat[i + 1]) });
  return { viewed, bought: bought === '' ? [] : bought.split(SEPARATOR) };
}
