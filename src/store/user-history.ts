// A user's history in one Redis command: a Lua script reads the opt-out flag, the latest views
// and (when asked) the purchases, and returns each list joined into one string. A big buyer's
// purchases are hundreds of ids: one string instead of hundreds of replies is what made the
// per-user endpoints cost twice the others in the client's reply decoding.
import type { Redis } from 'ioredis';
import type { UserHistory, ViewedItem } from '../recommend/types.ts';
import type { Keys } from './keys.ts';

// Ids never contain control characters (src/ids.ts), so "\n" separates them safely.
const SEPARATOR = '\n';
const HISTORY_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, '', ''} end
local viewed = redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local bought = ''
if ARGV[2] == '1' then bought = table.concat(redis.call('SMEMBERS', KEYS[3]), ARGV[3]) end
return {0, table.concat(viewed, ARGV[3]), bought}`;

type HistoryReply = [optedOut: number, viewed: string, bought: string];
interface HistoryCommand {
  recsHistory(optOutKey: string, viewedKey: string, boughtKey: string, viewedLimit: number, withBought: 0 | 1, separator: string): Promise<HistoryReply>;
}

/** A client that can read histories: the script is registered once (sent by SHA, reloaded by ioredis after a Redis restart). */
export function withHistoryScript(redis: Redis): Redis & HistoryCommand {
  if (!('recsHistory' in redis)) redis.defineCommand('recsHistory', { numberOfKeys: 3, lua: HISTORY_SCRIPT });
  return redis as Redis & HistoryCommand;
}

/** The user's latest `viewedLimit` views, newest first, and, when `withBought`, every purchase. */
export async function readHistory(redis: Redis & HistoryCommand, keys: Keys, user: string, viewedLimit: number, withBought: boolean): Promise<UserHistory> {
  const [optedOut, viewedFlat, bought] = await redis.recsHistory(
    keys.optOut(user), keys.recentlyViewed(user), keys.bought(user), viewedLimit, withBought ? 1 : 0, SEPARATOR);
  if (optedOut === 1) return { viewed: [], bought: [], optedOut: true };
  const flat = viewedFlat === '' ? [] : viewedFlat.split(SEPARATOR);
  const viewed: ViewedItem[] = [];
  for (let i = 0; i < flat.length; i += 2) viewed.push({ id: flat[i], at: Number(flat[i + 1]) });
  return { viewed, bought: bought === '' ? [] : bought.split(SEPARATOR) };
}
