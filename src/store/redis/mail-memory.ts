// What the blocks of one email showed, kept in Redis for a short while under the mail's id: a
// later block of the same mail leaves those items out, and a block fetched again (ESPs fetch the
// HTML, text and AMP parts separately) gets exactly the items it got the first time.
//   {prefix}mail:{user}:{mail_id}  HASH  block key → JSON of the block (request id and items)
// (keys.mail) The user is the hash tag: one user's keys stay in one Redis Cluster slot, so the
// scripts below read the user's flags with the memory. Opt-out wins over memory: an opted-out
// user's earlier blocks are never served again. Erasure wins over writes: nothing is remembered
// for an erased user, nor while the flags are missing (Redis lost its data). A linked id's mails
// are its customer's (docs/identity.md): both scripts answer with the customer, who is asked next.
import type { MailMemoryStore, Recall, RememberedBlock } from '../../email/memory.ts';
import type { Keys } from './keys.ts';
import { luaCommand, type RedisClient } from './client.ts';
import { flagsMarker } from './user-flags.ts';

// KEYS: flags marker (src/store/redis/user-flags.ts), opt-out flag, mail, alias marker. Reply:
// {0, field, json, ...} | {1} opted out | {2} flags missing | {3, customer} a linked id's mail
// is its customer's (docs/identity.md).
const recallScript = luaCommand<[synced: string, optOut: string, mail: string, alias: string], (number | string)[]>(
  'recsMailRecall',
  4,
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return {2} end
local customer = redis.call('GET', KEYS[4])
if customer then return {3, customer} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {1} end
local reply = redis.call('HGETALL', KEYS[3])
table.insert(reply, 1, 0)
return reply`,
);

// KEYS: flags marker, tombstone, mail, alias marker. ARGV: block key, JSON, ttl. Reply: {0, the
// JSON stored} (the one given, or one a concurrent fetch stored first), {3, customer} for a
// linked id, or false when nothing may be stored.
const rememberScript = luaCommand<[synced: string, erased: string, mail: string, alias: string, field: string, json: string, ttl: number], [0 | 3, string] | null>(
  'recsMailRemember',
  4,
  `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 1 then return false end
local customer = redis.call('GET', KEYS[4])
if customer then return {3, customer} end
redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return {0, redis.call('HGET', KEYS[3], ARGV[1])}`,
);

export class MailMemory implements MailMemoryStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly ttlSeconds: number,
  ) {}

  /** Every block this mail has shown so far, by block key; or why they may not be used. A linked id's are its customer's. */
  recall(user: string, mailId: string): Promise<Recall> {
    return this.recallOf(user, mailId, false);
  }

  private async recallOf(user: string, mailId: string, redirected: boolean): Promise<Recall> {
    const reply = await recallScript(this.redis, flagsMarker(this.redis, this.keys, user), this.keys.optOut(user), this.keys.mail(user, mailId), this.keys.alias(user));
    if (reply[0] === 1) return { state: 'opted-out' };
    // A second hop is Redis lagging PostgreSQL (a customer is never linked): not followed.
    if (reply[0] === 2 || (reply[0] === 3 && redirected)) return { state: 'withheld' };
    if (reply[0] === 3) return this.recallOf(String(reply[1]), mailId, true);
    const blocks = new Map<string, RememberedBlock>();
    for (let i = 1; i < reply.length; i += 2) blocks.set(String(reply[i]), JSON.parse(String(reply[i + 1])) as RememberedBlock);
    return { state: 'ok', blocks };
  }

  /**
   * Stores the block unless the same block was stored meanwhile (two fetches racing): either
   * way returns the one stored, so both fetches answer the same. Nothing is stored for an erased
   * user (the block given comes back); a linked id's block is stored in its customer's mail.
   */
  remember(user: string, mailId: string, blockKey: string, block: RememberedBlock): Promise<RememberedBlock> {
    return this.rememberOf(user, mailId, blockKey, block, false);
  }

  private async rememberOf(user: string, mailId: string, blockKey: string, block: RememberedBlock, redirected: boolean): Promise<RememberedBlock> {
    const stored = await rememberScript(
      this.redis,
      flagsMarker(this.redis, this.keys, user),
      this.keys.erased(user),
      this.keys.mail(user, mailId),
      this.keys.alias(user),
      blockKey,
      JSON.stringify(block),
      this.ttlSeconds,
    );
    if (stored === null || (stored[0] === 3 && redirected)) return block;
    if (stored[0] === 3) return this.rememberOf(stored[1], mailId, blockKey, block, true);
    return JSON.parse(stored[1]) as RememberedBlock;
  }
}
