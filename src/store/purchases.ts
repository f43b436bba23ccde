// A user's purchases are kept twice in Redis: a ZSET scored by −time (the record: it merges
// late and repeated purchases, the newest time winning) and its members, newest first, joined
// into one string (what a request reads, src/store/user-history.ts). Joining a ZSET of hundreds
// of ids inside the read script had cost Redis ~25 µs per personalised request on the bench VM
// (~60 → ~35 µs for the whole script), and a 1,785-purchase buyer's read ~430 → ~50 µs; a GET
// of the ready string costs ~2 µs. Every writer goes through addPurchases, which updates both in
// one script, so the two never disagree.
import type { ChainableCommander } from 'ioredis';
import type { Keys } from './keys.ts';

/** Ids never contain control characters (src/ids.ts), so "\n" separates them safely. */
export const ID_SEPARATOR = '\n';

// Sent as EVAL, not defined as a command (luaCommand, redis.ts): it runs inside the writers'
// pipelines, and writes are rare next to reads. ZADD in slices: Lua's unpack() refuses a few
// thousand values at once (the build may pass a big buyer's whole history).
const ADD_PURCHASES = `
for i = 3, #ARGV, 2000 do redis.call('ZADD', KEYS[1], 'LT', unpack(ARGV, i, math.min(i + 1999, #ARGV))) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], table.concat(redis.call('ZRANGE', KEYS[1], 0, -1), ARGV[2]), 'EX', ARGV[1])`;

/**
 * Queues one user's purchases (item, time in ms) on a pipeline: ZADD LT into the ZSET (an older
 * purchase arriving late keeps the newer time), then the joined copy rewritten; both expire after
 * `ttlSeconds`.
 */
export function addPurchases(pipeline: ChainableCommander, keys: Keys, user: string, purchases: readonly (readonly [item: string, ms: number])[], ttlSeconds: number): void {
  pipeline.eval(ADD_PURCHASES, 2, keys.bought(user), keys.boughtIds(user), ttlSeconds, ID_SEPARATOR, ...purchases.flatMap(([item, ms]) => [-ms, item]));
}
