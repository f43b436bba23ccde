// Per-key rate limit in Redis, so it holds across replicas: a fixed-window counter, INCR and
// PEXPIREAT in one pipeline (one round trip). A fixed window lets a client burst up to twice the
// limit across a window boundary; that is the price of one command pair per request.
import type { Redis } from 'ioredis';
import type { Rate } from './rate.ts';

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  /** Seconds until the window resets: the Retry-After of a refused request. */
  resetSeconds: number;
}

/** Counts one request against `rate` under `key` (a key per API key); `now` in Unix ms. */
export async function consume(redis: Redis, key: string, rate: Rate, now = Date.now()): Promise<RateDecision> {
  const windowMs = rate.windowSeconds * 1000;
  const window = Math.floor(now / windowMs);
  const windowEnd = (window + 1) * windowMs;
  const counter = `${key}:${rate.windowSeconds}:${window}`;
  // The same absolute expiry on every hit: the counter dies a second after its window, whatever the traffic.
  const results = await redis.pipeline().incr(counter).pexpireat(counter, windowEnd + 1000).exec();
  const [[err, count]] = results as [[Error | null, number]];
  if (err) throw err;
  return { allowed: count <= rate.limit, remaining: Math.max(0, rate.limit - count), resetSeconds: Math.ceil((windowEnd - now) / 1000) };
}
