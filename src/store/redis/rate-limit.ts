// Per-key rate limit in Redis, so it holds across replicas: a fixed-window counter, INCR and
// PEXPIREAT in one script (one round trip, one reply). A fixed window lets a client burst up to
// twice the limit across a window boundary; that is the price of one command per request.
import type { Rate, RateDecision } from '../../auth/rate.ts';
import { luaCommand, type RedisClient } from './client.ts';

// The same absolute expiry on every hit: the counter dies a second after its window, whatever the traffic.
const countHit = luaCommand<[counter: string, expiresAtMs: number], number>(
  'recsCountHit',
  1,
  `
local count = redis.call('INCR', KEYS[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return count`,
);

/** Counts one request against `rate` under `key` (a key per API key); `now` in Unix ms. */
export async function consume(redis: RedisClient, key: string, rate: Rate, now = Date.now()): Promise<RateDecision> {
  const windowMs = rate.windowSeconds * 1000;
  const window = Math.floor(now / windowMs);
  const windowEnd = (window + 1) * windowMs;
  const counter = `${key}:${rate.windowSeconds}:${window}`;
  const count = await countHit(redis, counter, windowEnd + 1000);
  return { allowed: count <= rate.limit, remaining: Math.max(0, rate.limit - count), resetSeconds: Math.ceil((windowEnd - now) / 1000) };
}
