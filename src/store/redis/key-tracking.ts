// Redis server-assisted client tracking (CLIENT TRACKING … REDIRECT, "client-side caching"):
// Redis remembers the keys read on the reader connection, and when anyone changes one (an
// event, an opt-out, an erasure, a link, the build's users stage, a flush) it names the key on
// this process's subscriber connection. Personal results made from users' histories can then be
// kept in memory and dropped the moment their data changes, whichever process or job wrote it,
// without a writer having to remember to say so.
//
// Until both connections are up and tracking is on, and after either drops, the listener is told
// it is not connected (nothing may be kept: a change in between would go unheard).
import type { Redis } from 'ioredis';
import type { InvalidatedCache } from '../../lib/invalidated-cache.ts';
import { duplicateServing } from './client.ts';
import { hashTag } from './keys.ts';

const CHANNEL = '__redis__:invalidate';

export interface TrackingListener {
  /** `key` was changed or expired (or evicted from Redis's tracking table). */
  changed(key: string): void;
  /** Everything may have changed (FLUSHALL / FLUSHDB). */
  changedAll(): void;
  /** Whether invalidations are being received: false drops everything kept. */
  connected(yes: boolean): void;
}

export interface KeyTracking {
  /** Reads on this connection are tracked. */
  readonly reader: Redis;
  /**
   * Resolves once every change Redis acknowledged before the call has been heard (true), or
   * cannot say (false: not connected, or Redis too slow to answer). Calls of one event-loop turn
   * share one PING: the subscriber's replies come in order, so its answer follows the
   * invalidations Redis had queued before it.
   */
  heard(): Promise<boolean>;
  close(): void;
}

/** Tracks the keys read on a new connection like `serving` (same bounds), reporting their changes to `listener`. */
export function trackKeys(serving: Redis, listener: TrackingListener): KeyTracking {
  const reader = duplicateServing(serving);
  // RESP2, where the invalidations of a redirect arrive as messages of a channel (under RESP3 they
  // are push frames ioredis does not surface).
  const subscriber = serving.duplicate({ protocol: 2, autoResubscribe: false });
  let subscriberId: number | null = null;
  let armed = false;
  let pending: Promise<boolean> | null = null;
  // Bumped by every connection change: an arming that straddled one does not count.
  let generation = 0;

  const connected = (yes: boolean) => {
    armed = yes;
    listener.connected(yes);
  };
  const disconnected = () => {
    generation++;
    connected(false);
  };
  const arm = async () => {
    const mine = generation;
    if (subscriberId === null || reader.status !== 'ready') return;
    await reader.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(subscriberId));
    if (mine === generation) connected(true);
  };
  // A failed arming leaves tracking off: nothing is kept until a reconnect arms it again.
  const failed = () => undefined;
  subscriber.on('ready', () => {
    const mine = generation;
    void (async () => {
      const id = Number(await subscriber.client('ID'));
      await subscriber.subscribe(CHANNEL);
      if (mine !== generation) return;
      subscriberId = id;
      await arm();
    })().catch(failed);
  });
  reader.on('ready', () => void arm().catch(failed));
  subscriber.on('close', () => {
    subscriberId = null;
    disconnected();
  });
  reader.on('close', disconnected);
  // Errors are the serving client's to report (the same Redis); unhandled, they would be printed raw.
  reader.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  subscriber.on('messageBuffer', (channel: Buffer | string, keys: unknown) => {
    if (String(channel) !== CHANNEL) return;
    if (!Array.isArray(keys)) listener.changedAll();
    else for (const key of keys) listener.changed(String(key));
  });

  const ping = (): Promise<boolean> =>
    subscriber.ping().then(
      () => armed,
      () => false,
    );
  return {
    reader,
    heard() {
      if (!armed) return Promise.resolve(false);
      // Sent in the check phase, after every request read in this turn has asked.
      pending ??= new Promise((resolve) =>
        setImmediate(() => {
          pending = null;
          resolve(ping());
        }),
      );
      return pending;
    },
    // Not QUIT: with Redis away it would wait in the offline queue, and nothing is owed to Redis.
    close() {
      generation++;
      reader.disconnect();
      subscriber.disconnect();
      connected(false);
    },
  };
}

/** Drops what `cache` keeps of a user when one of their keys changes: it keeps them under their keys' hash tag (rec-store.ts). */
export function invalidating(cache: InvalidatedCache<unknown>): TrackingListener {
  return {
    changed(key) {
      const tag = hashTag(key);
      // A key of no user (the flags marker of a single Redis): anyone's answer may change.
      if (tag === null) cache.invalidateAll();
      else cache.invalidate(tag);
    },
    changedAll: () => cache.invalidateAll(),
    connected: (yes) => cache.setConnected(yes),
  };
}
