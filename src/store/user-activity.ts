import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';
import { addPurchases } from './purchases.ts';

export interface ActivityEvent {
  user: string;
  item: string;
  type: string;
  occurredAt: Date;
}

export interface ActivityLimits {
  recentlyViewedCap: number;
  ttlSeconds: number;
}

/**
 * Mirrors new events into the per-user Redis keys the API reads: views into the
 * recently-viewed ZSET (one entry per item, newest time wins, capped), purchases into the
 * user's purchases (src/store/purchases.ts). One pipeline, one round trip, whatever the batch size.
 */
export async function recordActivity(redis: Redis, keys: Keys, limits: ActivityLimits, events: ActivityEvent[]): Promise<void> {
  if (events.length === 0) return;
  const pipeline = redis.pipeline();
  const viewed = new Set<string>();
  const bought = new Map<string, [item: string, ms: number][]>();
  for (const e of events) {
    if (e.type === 'view') {
      const key = keys.recentlyViewed(e.user);
      // GT: a late-arriving older view must not push a newer one down the list.
      pipeline.zadd(key, 'GT', e.occurredAt.getTime(), e.item);
      viewed.add(key);
    } else if (e.type === 'purchase') {
      const purchases = bought.get(e.user) ?? [];
      purchases.push([e.item, e.occurredAt.getTime()]);
      bought.set(e.user, purchases);
    }
  }
  for (const key of viewed) {
    pipeline.zremrangebyrank(key, 0, -(limits.recentlyViewedCap + 1));
    pipeline.expire(key, limits.ttlSeconds);
  }
  for (const [user, purchases] of bought) addPurchases(pipeline, keys, user, purchases, limits.ttlSeconds);
  const results = await pipeline.exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0];
}
