// Opt-out flags and erasure tombstones in Redis, and the marker that says they are all there
// (src/privacy/flags.ts copies them from PostgreSQL, their truth). Every script that reads a
// user's keys checks the marker in the same step: no marker, no personal read.
//
// On a single Redis the marker is one key: the data is lost all at once or not at all. On a
// Redis Cluster a script may only touch keys of one slot, and a node (its master and replicas)
// can lose its data while the others keep theirs; so there is one marker per slot, in that slot
// (keys.flagsSyncedIn): a read checks its user's slot's marker, and the markers that go with a
// node's data are exactly those of the flags that went with it.
import { randomUUID } from 'node:crypto';
import type { Keys } from './keys.ts';
import { SLOTS } from './keys.ts';
import { Batch, execOrThrow, isCluster, type RedisClient } from './client.ts';

const BATCH = 1000;
// The marker is set only by the copy that still holds the `syncing` token: a Redis that lost its
// data again during the copy lost the token too, and the copy must not claim completeness.
const FINISH = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[2], '1'); redis.call('DEL', KEYS[1]); return 1 end return 0`;

/** The marker a script reading `user`'s keys checks along with them. */
export function flagsMarker(redis: RedisClient, keys: Keys, user: string): string {
  return isCluster(redis) ? keys.flagsSyncedIn(keys.userSlot(user)) : keys.flagsSynced;
}

/** (syncing, synced) marker pairs: one on a single Redis, one per slot on a Cluster (both keys of a pair in one slot). */
function markerPairs(redis: RedisClient, keys: Keys): [syncing: string, synced: string][] {
  if (!isCluster(redis)) return [[keys.flagsSyncing, keys.flagsSynced]];
  return Array.from({ length: SLOTS }, (_, slot) => [keys.flagsSyncingIn(slot), keys.flagsSyncedIn(slot)]);
}

/** Queues one command per pair, in batches; every reply, in order. */
async function eachPair(redis: RedisClient, pairs: [string, string][], queue: (batch: Batch, pair: [string, string]) => void): Promise<unknown[]> {
  const replies: unknown[] = [];
  for (let i = 0; i < pairs.length; i += BATCH) {
    const batch = new Batch(redis);
    for (const pair of pairs.slice(i, i + BATCH)) queue(batch, pair);
    replies.push(...await execOrThrow(batch));
  }
  return replies;
}

/**
 * Takes the syncing token, reads the flags with `load` (after the token: a loss meanwhile is
 * seen), writes them, then sets the marker(s) if the token survived. Returns what `load` read.
 */
export async function copyUserFlags<Row extends { id: string; erased: boolean }>(redis: RedisClient, keys: Keys, load: () => Promise<Row[]>): Promise<Row[]> {
  const token = randomUUID();
  const pairs = markerPairs(redis, keys);
  await eachPair(redis, pairs, (batch, [syncing]) => batch.for(syncing).set(syncing, token, 'EX', 600));
  const rows = await load();
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = new Batch(redis);
    for (const { id, erased } of rows.slice(i, i + BATCH)) {
      const key = erased ? keys.erased(id) : keys.optOut(id);
      batch.for(key).set(key, '1');
    }
    await execOrThrow(batch);
  }
  const finished = await eachPair(redis, pairs, (batch, [syncing, synced]) => batch.for(syncing).eval(FINISH, 2, syncing, synced, token));
  if (finished.some((done) => done !== 1)) throw new Error('Redis lost its data during the copy of user flags: not marked complete');
  // On a Cluster: the hint read at start (src/app.ts) that a whole copy once finished.
  if (isCluster(redis)) await redis.set(keys.flagsSynced, '1');
  return rows;
}
