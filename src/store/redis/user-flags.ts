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
import type { ChainableCommander } from 'ioredis';
import type { Keys } from './keys.ts';
import { SLOTS } from './keys.ts';
import { Batch, execOrThrow, isCluster, withPatience, type RedisClient } from './client.ts';

// Commands per round trip: a batch is built and its replies read in one go, which holds up the
// API's event loop (on the bench VM ~15-20 ms for 250 commands, 50-80 ms for 1000).
const BATCH = 250;
// The marker is set only by the copy that still holds the `syncing` token: a Redis that lost its
// data again during the copy lost the token too, and the copy must not claim completeness.
const FINISH = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[2], '1'); redis.call('DEL', KEYS[1]); return 1 end return 0`;

/** The marker a script reading `user`'s keys checks along with them. */
export function flagsMarker(redis: RedisClient, keys: Keys, user: string): string {
  return isCluster(redis) ? keys.flagsSyncedIn(keys.userSlot(user)) : keys.flagsSynced;
}

/** One command per key, BATCH at a time; the replies in order. */
async function inBatches(redis: RedisClient, keys: readonly string[], queue: (pipeline: ChainableCommander, key: string, i: number) => unknown): Promise<unknown[]> {
  const replies: unknown[] = [];
  for (let start = 0; start < keys.length; start += BATCH) {
    const batch = new Batch(redis);
    keys.slice(start, start + BATCH).forEach((key, k) => batch.add(key, (p) => queue(p, key, start + k)));
    replies.push(...(await execOrThrow(batch)));
  }
  return replies;
}

/**
 * The (syncing, synced) marker pairs to set: the one of a single Redis; on a Cluster those of
 * the slots whose marker is missing (both keys of a pair in one slot). A slot whose marker is
 * there lost nothing since the last copy; one that loses its data during this copy keeps no
 * marker and is repaired by the next.
 */
async function missingMarkers(redis: RedisClient, keys: Keys): Promise<[syncing: string, synced: string][]> {
  if (!isCluster(redis)) return [[keys.flagsSyncing, keys.flagsSynced]];
  const synced = Array.from({ length: SLOTS }, (_, slot) => keys.flagsSyncedIn(slot));
  const present = await inBatches(redis, synced, (p, key) => p.exists(key));
  return synced.flatMap((key, slot) => (present[slot] === 1 ? [] : [[keys.flagsSyncingIn(slot), key] as [string, string]]));
}

/**
 * What the marker vouches for, one key per row: an opt-out flag or a tombstone (`erased`), a
 * linked id's marker naming its customer (`customer`, docs/identity.md), or the variant a
 * customer keeps in an experiment. A missing marker of a linked id would have its reads and writes
 * taken for its own, so the markers are copied back with the flags.
 */
export type UserFlag = { id: string; erased: boolean } | { id: string; customer: string } | { id: string; experiment: string; variant: string };

function queueFlag(pipeline: ChainableCommander, keys: Keys, flag: UserFlag): void {
  if ('customer' in flag) pipeline.set(keys.alias(flag.id), flag.customer);
  else if ('experiment' in flag) pipeline.hset(keys.variants(flag.id), flag.experiment, flag.variant);
  else pipeline.set(flag.erased ? keys.erased(flag.id) : keys.optOut(flag.id), '1');
}

/**
 * Takes the syncing token, reads the flags with `load` (after the token: a loss meanwhile is
 * seen), writes them all, then sets the marker(s) if the token survived. Returns what `load`
 * read. On a Cluster that is up to three commands per slot besides the flags: run with the
 * jobs' patience.
 */
export function copyUserFlags<Row extends UserFlag>(redis: RedisClient, keys: Keys, load: () => Promise<Row[]>): Promise<Row[]> {
  return withPatience(redis, (patient) => copy(patient, keys, load));
}

async function copy<Row extends UserFlag>(redis: RedisClient, keys: Keys, load: () => Promise<Row[]>): Promise<Row[]> {
  const token = randomUUID();
  const pairs = await missingMarkers(redis, keys);
  await inBatches(
    redis,
    pairs.map(([syncing]) => syncing),
    (p, syncing) => p.set(syncing, token, 'EX', 600),
  );
  const rows = await load();
  // Each row's key is in its user's slot: the batch routes by the tombstone, a key of the same slot.
  await inBatches(
    redis,
    rows.map(({ id }) => keys.erased(id)),
    (p, _key, i) => queueFlag(p, keys, rows[i]),
  );
  const finished = await inBatches(
    redis,
    pairs.map(([syncing]) => syncing),
    (p, syncing, i) => p.eval(FINISH, 2, syncing, pairs[i][1], token),
  );
  if (finished.some((done) => done !== 1)) throw new Error('Redis lost its data during the copy of user flags: not marked complete');
  // On a Cluster: the hint read at start (src/app.ts) that a whole copy once finished.
  if (isCluster(redis)) await redis.set(keys.flagsSynced, '1');
  return rows;
}
