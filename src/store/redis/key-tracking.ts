// Redis server-assisted client tracking in broadcasting mode (CLIENT TRACKING ON BCAST PREFIX …
// REDIRECT): each Redis node (one, or every master of a Cluster) names on this process's
// subscriber connection every key under the watched prefixes that anyone changes or deletes (an
// event, an opt-out, an erasure, a link, the build's users stage) and says so when it is flushed.
// Personal results made from users' histories can then be kept in memory and dropped the moment
// their data changes, whichever process or job wrote it, without a writer having to say so.
// Broadcasting keeps nothing per key in Redis (the default mode's tracking table holds every key
// read: ~110 bytes each), at the price of a message for every write under the prefixes.
//
// Until every node's connections are up with every prefix watched, and after any of them drops,
// the listener is told it is not connected (nothing may be kept: a change in between would go
// unheard).
import type { Redis } from 'ioredis';
import type { InvalidatedCache } from '../../lib/invalidated-cache.ts';
import { isCluster, type RedisClient } from './client.ts';
import { hashTag } from './keys.ts';

const CHANNEL = '__redis__:invalidate';
const RETRY_MS = 1000;

function underAny(key: string, prefixes: ReadonlySet<string>): boolean {
  for (const prefix of prefixes) if (key.startsWith(prefix)) return true;
  return false;
}

export interface TrackingListener {
  /** `key`, under a watched users' prefix, was changed, expired or deleted. */
  changed(key: string): void;
  /** Anything may have changed (a flush, a flags marker). */
  changedAll(): void;
  /** Whether every change is being heard: false drops everything kept. */
  connected(yes: boolean): void;
}

/** Key prefixes to watch: users' keys (named by their hash tag), and markers whose change concerns everyone. */
export interface WatchedPrefixes {
  users: readonly string[];
  markers: readonly string[];
}

export interface KeyTracking {
  /** Adds prefixes (a tenant's first use): until every node watches them, nothing is kept. */
  watch(prefixes: WatchedPrefixes): void;
  /**
   * Resolves once every change Redis acknowledged before the call has been heard (true), or
   * cannot say (false: not connected, or Redis too slow to answer). Calls of one event-loop turn
   * share one PING per node: a subscriber's replies come in order, so its answer follows the
   * invalidations that node had queued before it.
   */
  heard(): Promise<boolean>;
  close(): void;
}

/** One node's pair: a subscriber (RESP2: invalidations of a redirect arrive as messages of a channel) and the connection whose tracking redirects there. */
class NodeTracker {
  private readonly subscriber: Redis;
  private readonly tracker: Redis;
  private subscriberId: number | null = null;
  /** Prefixes this node watches for us now. */
  private watching = new Set<string>();
  private arming: Promise<void> | null = null;

  /** `node`: a connection to the node (its address and bounds are copied). */
  constructor(
    node: Redis,
    private readonly onMessage: (keys: unknown) => void,
    private readonly onChange: () => void,
  ) {
    // No offline queue: a PING while the node is away fails at once instead of waiting for it. Its
    // own reconnects: a Cluster's node connections leave them to the Cluster, which knows none of these.
    const own = {
      protocol: 2 as const,
      autoResubscribe: false,
      enableOfflineQueue: false,
      lazyConnect: false,
      retryStrategy: (attempt: number) => Math.min(50 * attempt, RETRY_MS),
    };
    this.subscriber = node.duplicate(own);
    this.tracker = node.duplicate(own);
    for (const connection of [this.subscriber, this.tracker]) {
      // Errors are the serving client's to report (the same Redis); unhandled, they would be printed raw.
      connection.on('error', () => undefined);
      connection.on('close', () => {
        // A new subscriber has a new id to redirect to; a new tracker has no tracking at all.
        if (connection === this.subscriber) this.subscriberId = null;
        this.watching = new Set();
        this.onChange();
      });
      connection.on('ready', () => this.onChange());
    }
    this.subscriber.on('messageBuffer', (channel: Buffer | string, keys: unknown) => {
      if (String(channel) === CHANNEL) this.onMessage(keys);
    });
  }

  /** Whether the node is heard on every one of `prefixes`. */
  watches(prefixes: ReadonlySet<string>): boolean {
    if (this.subscriberId === null) return false;
    for (const prefix of prefixes) if (!this.watching.has(prefix)) return false;
    return true;
  }

  /** Subscribes (once per connection) and watches the prefixes not yet watched. */
  arm(prefixes: ReadonlySet<string>): Promise<void> {
    this.arming ??= this.armOnce(prefixes).finally(() => {
      this.arming = null;
    });
    return this.arming;
  }

  private async armOnce(prefixes: ReadonlySet<string>): Promise<void> {
    if (this.subscriber.status !== 'ready' || this.tracker.status !== 'ready') return;
    if (this.subscriberId === null) {
      // In RESP2 a subscribed connection answers nothing but (un)subscribe and PING: its id first.
      const id = Number(await this.subscriber.client('ID'));
      await this.subscriber.subscribe(CHANNEL);
      this.subscriberId = id;
    }
    const id = this.subscriberId;
    const missing = [...prefixes].filter((prefix) => !this.watching.has(prefix));
    if (missing.length === 0) return;
    // After a reconnect of either connection the tracker may still redirect to a subscriber gone
    // (and refuses a prefix it has): off first, then every prefix to the subscriber of now.
    if (this.watching.size === 0) await this.tracker.call('CLIENT', 'TRACKING', 'OFF');
    await this.tracker.call('CLIENT', 'TRACKING', 'ON', 'BCAST', ...missing.flatMap((prefix) => ['PREFIX', prefix]), 'REDIRECT', String(id));
    // A reconnect meanwhile started over: what was asked of the old connection does not count.
    if (this.subscriberId === id) for (const prefix of missing) this.watching.add(prefix);
  }

  ping(): Promise<boolean> {
    return this.subscriber.ping().then(
      () => true,
      () => false,
    );
  }

  close(): void {
    // Not QUIT: with Redis away it would wait in the offline queue, and nothing is owed to Redis.
    this.subscriber.disconnect();
    this.tracker.disconnect();
  }
}

/** Tracks the watched prefixes on every node of `serving` (a Cluster's masters, as they change), reporting changes to `listener`. */
export function trackKeys(serving: RedisClient, listener: TrackingListener): KeyTracking {
  const markers = new Set<string>();
  const all = new Set<string>();
  const nodes = new Map<string, NodeTracker>();
  let connected = false;
  let closed = false;
  let pending: Promise<boolean> | null = null;

  const onMessage = (keys: unknown) => {
    // A flush names no key.
    if (!Array.isArray(keys)) return listener.changedAll();
    for (const raw of keys) {
      const key = String(raw);
      if (underAny(key, markers)) listener.changedAll();
      else listener.changed(key);
    }
  };
  // Connected only while every node (there is at least one) watches every prefix; any loss drops everything kept.
  const allWatching = () => !closed && nodes.size > 0 && [...nodes.values()].every((node) => node.watches(all));
  const update = () => {
    const now = allWatching();
    if (now !== connected) {
      connected = now;
      listener.connected(now);
    }
    // A failed arming (Redis busy, a command refused) is tried again a second later.
    if (!now && !closed) for (const node of nodes.values()) void node.arm(all).then(check, () => setTimeout(update, RETRY_MS).unref());
  };
  const check = () => {
    if (!connected && allWatching()) {
      connected = true;
      listener.connected(true);
    }
  };

  /** The nodes to track, by address: the one Redis, or a Cluster's masters as the client knows them now. */
  const masters = (): Map<string, Redis> => (isCluster(serving) ? new Map(serving.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node])) : new Map([['', serving]]));
  const reconcile = () => {
    if (closed) return;
    const wanted = masters();
    for (const [name, node] of nodes) {
      if (!wanted.has(name)) {
        nodes.delete(name);
        node.close();
      }
    }
    for (const [name, node] of wanted) if (!nodes.has(name)) nodes.set(name, new NodeTracker(node, onMessage, update));
    update();
  };
  // A Cluster's masters change with a failover or a resharding: the slot map's refresh says so.
  if (isCluster(serving)) serving.on('refresh', reconcile);

  return {
    watch(prefixes) {
      const added = [...prefixes.users, ...prefixes.markers].filter((prefix) => !all.has(prefix));
      if (added.length === 0) return;
      for (const prefix of prefixes.markers) markers.add(prefix);
      for (const prefix of added) all.add(prefix);
      if (nodes.size === 0) reconcile();
      else update();
    },
    heard() {
      if (!connected) return Promise.resolve(false);
      // Sent in the check phase, after every request read in this turn has asked.
      pending ??= new Promise((resolve) =>
        setImmediate(() => {
          pending = null;
          void Promise.all([...nodes.values()].map((node) => node.ping())).then((answers) => resolve(connected && answers.every(Boolean)));
        }),
      );
      return pending;
    },
    close() {
      closed = true;
      if (isCluster(serving)) serving.off('refresh', reconcile);
      for (const node of nodes.values()) node.close();
      nodes.clear();
      connected = false;
      listener.connected(false);
    },
  };
}

/** Drops what `cache` keeps of a user when one of their keys changes: it keeps them under their keys' hash tag (rec-store.ts). */
export function invalidating(cache: InvalidatedCache<unknown>): TrackingListener {
  return {
    changed(key) {
      const tag = hashTag(key);
      if (tag === null) cache.invalidateAll();
      else cache.invalidate(tag);
    },
    changedAll: () => cache.invalidateAll(),
    connected: (yes) => cache.setConnected(yes),
  };
}
