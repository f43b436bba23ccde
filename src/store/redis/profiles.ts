// What a request needs of a customer's lifecycle profile, in Redis: the facts audience
// membership is decided on (src/lifecycle/audiences.ts), for experiments limited to an
// audience. One HASH per user under their hash tag, next to their tombstone and opt-out flag,
// so one script writes it only for a user not erased and one reads it only for a user not
// opted out (PostgreSQL holds the whole profile: src/store/pg/lifecycle.ts).
import type { AudienceFacts } from '../../lifecycle/audiences.ts';
import type { Segment } from '../../lifecycle/rfm.ts';
import { type Batch, eachKey, luaCommand, type RedisClient } from './client.ts';
import type { Keys } from './keys.ts';

// KEYS: tombstone, profile. ARGV: ttl, then field, value pairs. Nothing for an erased user.
const WRITE_PROFILE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1`;

// KEYS: profile, opt-out flag. An opted-out user's history decides nothing: no facts.
const READ_PROFILE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
return redis.call('HMGET', KEYS[1], 'version', 'segment', 'p_alive', 'recency_days', 'mean_gap_days', 'revenue', 'next_due_days')`;

const readProfile = luaCommand<[string, string], (string | null)[] | null>('recsReadProfile', 2, READ_PROFILE);

/** Queues the write of one user's facts of `version` (the users' pipelines of a batch). */
export function queueProfileWrite(batch: Batch, keys: Keys, ttlSeconds: number, user: string, version: number, f: AudienceFacts): void {
  const tombstone = keys.erased(user);
  const fields = [
    'version',
    version,
    'segment',
    f.segment,
    'p_alive',
    f.pAlive ?? '',
    'recency_days',
    f.recencyDays,
    'mean_gap_days',
    f.meanGapDays ?? '',
    'revenue',
    f.revenue,
    'next_due_days',
    f.nextDueDays ?? '',
  ];
  batch.add(tombstone, (pipeline) => pipeline.eval(WRITE_PROFILE, 2, tombstone, keys.profile(user), ttlSeconds, ...fields));
}

/** Deletes the profiles of users who no longer have one (one round trip per node). */
export async function deleteProfiles(redis: RedisClient, keys: Keys, users: readonly string[]): Promise<void> {
  if (users.length > 0)
    await eachKey(
      redis,
      users.map((u) => keys.profile(u)),
      'UNLINK',
    );
}

/** A user's facts with the version they are of; null when there are none or the user opted out. */
export async function readProfileFacts(redis: RedisClient, keys: Keys, user: string): Promise<(AudienceFacts & { version: number }) | null> {
  const reply = await readProfile(redis, keys.profile(user), keys.optOut(user));
  if (reply === null || reply[0] === null) return null;
  const [version, segment, pAlive, recencyDays, meanGapDays, revenue, nextDueDays] = reply;
  const numberOrNull = (v: string | null) => (v === null || v === '' ? null : Number(v));
  return {
    version: Number(version),
    segment: segment as Segment,
    pAlive: numberOrNull(pAlive),
    recencyDays: Number(recencyDays),
    meanGapDays: numberOrNull(meanGapDays),
    revenue: Number(revenue),
    nextDueDays: numberOrNull(nextDueDays),
  };
}
