// What the blocks of one email showed, kept in Redis for a short while under the mail's id: a
// later block of the same mail leaves those items out, and a block fetched again (ESPs fetch the
// HTML, text and AMP parts separately) gets exactly the items it got the first time.
//   {prefix}mail:{user}:{mail_id}  HASH  block key → JSON of the block (request id and items)
// (keys.mail) The user is the hash tag: one user's keys stay in one Redis Cluster slot; erasing
// the user deletes them (keys.userMailPattern).
import type { Redis } from 'ioredis';
import type { Source, Strategy } from '../recommend/types.ts';
import type { Keys } from '../store/keys.ts';

export interface RememberedItem {
  id: string;
  score: number;
  source: Source;
  because?: string;
}

export interface RememberedBlock {
  requestId: string;
  strategy: Strategy;
  variant: string | null;
  modelVersion: number | null;
  degraded: boolean;
  items: RememberedItem[];
}

export class MailMemory {
  constructor(private readonly redis: Redis, private readonly keys: Keys, private readonly ttlSeconds: number) {}

  private key(user: string | null, mailId: string): string {
    return this.keys.mail(user ?? '', mailId);
  }

  /** Every block this mail has shown so far, by block key. */
  async blocks(user: string | null, mailId: string): Promise<Map<string, RememberedBlock>> {
    const all = await this.redis.hgetall(this.key(user, mailId));
    return new Map(Object.entries(all).map(([field, json]) => [field, JSON.parse(json) as RememberedBlock]));
  }

  /**
   * Stores the block unless the same block was stored meanwhile (two fetches racing): either
   * way returns the one stored, so both fetches answer the same.
   */
  async remember(user: string | null, mailId: string, blockKey: string, block: RememberedBlock): Promise<RememberedBlock> {
    const key = this.key(user, mailId);
    const results = await this.redis.multi().hsetnx(key, blockKey, JSON.stringify(block)).hget(key, blockKey).expire(key, this.ttlSeconds).exec();
    const [, [err, stored]] = results as [unknown, [Error | null, string | null]];
    if (err) throw err;
    return stored === null ? block : JSON.parse(stored) as RememberedBlock;
  }
}
