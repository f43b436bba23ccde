// Exposures in Redis, before and beside PostgreSQL (docs/email-and-experiments.md#ab-harness):
//   {P}exposed:{U}                   HASH    experiment → JSON [time ms, variant]: the user's first
//       exposure in each experiment, noted when it is served. Each API process buffers its
//       exposures for up to EXPOSURE_FLUSH_MS before PostgreSQL has them; a link made meanwhile
//       reads these, so the customer keeps the variant first served (docs/identity.md#experiments).
//       Kept an hour after the last note: long enough for any buffer to be written.
//   {P}deferred:{U}:{request_id}     STRING  JSON of the exposure of a block fetched with
//       exposure=impression, bound to the variant that served it, until the block is seen
//       (EXPOSURE_DEFERRED_TTL_SECONDS): its impression takes it, once.
// Both are the user's keys (their hash tag), erased with them; both writers check the erasure
// tombstone in the same script, so erasure wins.
import type { DeferredExposure, ExposureNotes, NotedExposure } from '../../experiments/exposures.ts';
import type { Keys } from './keys.ts';
import { luaCommand, type RedisClient } from './client.ts';

const NOTE_TTL_SECONDS = 3600;

// KEYS: tombstone, exposed. ARGV: experiment, JSON [ms, variant], ttl. The first note stays (HSETNX).
const noteScript = luaCommand<[erased: string, exposed: string, experiment: string, note: string, ttl: number], number>(
  'recsNoteExposure',
  2,
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1`,
);

// KEYS: tombstone, deferred exposure. ARGV: JSON, ttl. The first block under a request id stays.
const deferScript = luaCommand<[erased: string, deferred: string, json: string, ttl: number], number>(
  'recsDeferExposure',
  2,
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
return 0`,
);

/** The notes of every tenant in Redis, under each user's keys. */
export function redisExposureNotes(redis: RedisClient, keysOf: (tenant: string) => Keys): ExposureNotes {
  return {
    async note(tenant, user, experiment, variant, at) {
      const keys = keysOf(tenant);
      await noteScript(redis, keys.erased(user), keys.exposed(user), experiment, JSON.stringify([at.getTime(), variant]), NOTE_TTL_SECONDS);
    },
    async defer(tenant, user, requestId, exposure, ttlSeconds) {
      const keys = keysOf(tenant);
      await deferScript(redis, keys.erased(user), keys.deferredExposure(user, requestId), JSON.stringify(exposure), ttlSeconds);
    },
    async take(tenant, user, requestId) {
      const json = await redis.getdel(keysOf(tenant).deferredExposure(user, requestId));
      return json === null ? null : (JSON.parse(json) as DeferredExposure);
    },
  };
}

/** The first exposures noted for `user` in the last hour, by experiment. */
export async function notedExposures(redis: RedisClient, keys: Keys, user: string): Promise<NotedExposure[]> {
  const noted = await redis.hgetall(keys.exposed(user));
  return Object.entries(noted).map(([experiment, json]) => {
    const [ms, variant] = JSON.parse(json) as [number, string];
    return { experiment, variant, exposedAt: new Date(ms) };
  });
}
