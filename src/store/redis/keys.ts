// The Redis key layout of docs/architecture.md in one place. Per-user keys carry the user id as a hash tag
// so one user's keys share a Redis Cluster slot; model keys carry the build version so a new
// build never overwrites what is being served.
import { checkTenantId, DEFAULT_TENANT } from '../../tenant.ts';

/**
 * The layout of the keys below, written into each build's meta: bumped when a key changes name
 * or type (2: purchases became a ZSET by time, `purchased:`; 3: ids holding `{}:%` are encoded,
 * keyPart). Per-user keys of an older layout are rewritten by the next build (its users stage).
 */
export const KEY_LAYOUT = 3;

export interface Keys {
  /** The live model version number. */
  current: string;
  /** Metadata (JSON) of one model version: built_at, counts, options. */
  meta(version: number): string;
  /** Neighbour list of an item: packed ids and scores, best first. */
  neighbours(version: number, item: string): string;
  /**
   * Items of a brand ranked by popularity (ZSET). Ranked lists are scored by -popularity:
   * read them with ZRANGE (ascending) so that ties come smaller id first, as everywhere else.
   */
  brand(version: number, brand: string): string;
  /** Popular items overall, or within a category (ZSET scored by -popularity, as `brand`). */
  popular(version: number, category?: string): string;
  /** Catalog fields of an item a block needs (JSON). */
  item(version: number, item: string): string;
  /** An item's repeat-purchase statistics (JSON [buyers, repeat rate, gap μ, gap σ], src/cf/repeat/stats.ts): what buy-again scores a user's items with. */
  itemRepeat(version: number, item: string): string;
  /** SCAN pattern of the keys of a version; it also matches a per-user key whose user id holds `:v{N}:`, see isVersionKey. */
  versionPattern(version: number): string;
  /** Whether a key the pattern matched is a model key of that version (a user's never is). */
  isVersionKey(key: string, version: number): boolean;
  /** A user's recently viewed items (ZSET scored by view time). */
  recentlyViewed(user: string): string;
  /**
   * Items a user bought (ZSET scored by −(latest purchase time, ms), so that ZRANGE reads them
   * newest first, equal times by smaller id, as ranked lists are read): excluded from their
   * recommendations, and, newest first, the seeds of their collaborative block.
   */
  bought(user: string): string;
  /** The members of `bought`, in its order, joined by "\n" into one STRING: what requests read (src/store/redis/user-writes.ts). */
  boughtIds(user: string): string;
  /**
   * A user's purchase occasions: one member `{item}\n{UTC day number}` per item and day, scored by
   * the latest purchase time (ms) that day, capped to the newest (ZSET): what buy-again scores.
   */
  occasions(user: string): string;
  /** Set while a user has opted out of personalisation (no TTL: kept until they opt back in). */
  optOut(user: string): string;
  /** Set when a user is erased (no TTL): every writer of a user key checks it in the same script (src/store/redis/user-writes.ts). */
  erased(user: string): string;
  /**
   * Set while the user is a linked id of a customer (STRING: the customer id; no TTL, copied back
   * from PostgreSQL with the flags): every script reading or writing the user's keys checks it in
   * the same step and answers for the customer instead (docs/identity.md).
   */
  alias(user: string): string;
  /** The variant a customer keeps in each experiment, from the first exposure of any of their ids (HASH experiment → variant; no TTL, copied back with the flags). */
  variants(user: string): string;
  /** The user's first exposure in each experiment, noted as it is served, before PostgreSQL has it (HASH experiment → JSON [time ms, variant]; src/store/redis/exposures.ts). */
  exposed(user: string): string;
  /** The exposure of a block fetched with exposure=impression, waiting for its impression (STRING, JSON; with a TTL). */
  deferredExposure(user: string, requestId: string): string;
  /** SCAN pattern of all of a user's deferred exposures (their request ids are not known). */
  userDeferredPattern(user: string): string;
  /** A customer's lifecycle facts (HASH with the user TTL, src/store/redis/profiles.ts): what audience-limited experiments decide entry on. */
  profile(user: string): string;
  /** What the blocks of one email showed (HASH with a TTL, src/store/redis/mail-memory.ts). */
  mail(user: string, mailId: string): string;
  /** SCAN pattern of all of a user's mail keys (the mail ids are not known). */
  userMailPattern(user: string): string;
  /** Every per-user key but the mail ones, the deferred exposures and the tombstone, retired ones included: what erasing a user deletes, with userMailPattern and userDeferredPattern. A new per-user key belongs here too. */
  userKeys(user: string): string[];
  /** Per-user keys of older layouts (purchases as a SET, layout 1): the build's users stage deletes them. */
  retiredUserKeys(user: string): string[];
  /**
   * Set once every opt-out flag and erasure tombstone has been copied from PostgreSQL (their
   * truth) into Redis. Missing (Redis lost its data): no user's history is read until they are
   * back (src/store/redis/user-flags.ts), so an opt-out lost with the data is never ignored.
   */
  flagsSynced: string;
  /** Held by the process copying the flags; the marker is set only if this survived the copy. */
  flagsSyncing: string;
  /**
   * On a Redis Cluster, one marker per slot, in that slot (src/store/redis/user-flags.ts): a
   * read's script checks the marker of its user's slot, and a node that lost its data lost the
   * markers of exactly the slots whose flags it lost. `flagsSynced` is then only the hint that a
   * whole copy once finished, read at start.
   */
  flagsSyncedIn(slot: number): string;
  flagsSyncingIn(slot: number): string;
  /** The hash tag of every key of a user (without its braces): what hashTag() reads from any of them. */
  userTag(user: string): string;
  /** The Cluster slot of a user's keys. */
  userSlot(user: string): number;
  /** Fixed-window request counters of an API key in this tenant, by its public prefix (src/store/redis/rate-limit.ts): an admin key has a budget per shop. */
  rateLimit(keyPrefix: string): string;
  /** Lock held by the build job that is publishing. */
  buildLock: string;
}

/**
 * An id as it appears inside a key: unchanged unless it holds a character that has a meaning
 * there (`{` `}` end a Cluster hash tag, `:` separates parts, `%` is the escape itself), then
 * URL-encoded. Injective: an encoded id always holds a `%`, an unchanged one never does, so no
 * two (user, mail) pairs can share a key, whatever the ids.
 */
export function keyPart(id: string): string {
  return /[{}:%]/.test(id) ? encodeURIComponent(id) : id;
}

/** A literal for SCAN MATCH: glob's special characters escaped. */
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

const MODEL_KINDS = ['meta', 'cf', 'brand', 'pop', 'item', 'rep'];

/** Slots of a Redis Cluster. */
export const SLOTS = 16384;

const CRC16 = Uint16Array.from({ length: 256 }, (_, i) => {
  let c = i << 8;
  for (let bit = 0; bit < 8; bit++) c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
  return c;
});

/** A key's hash tag (what lies between the first `{` and the next `}`), null when it has none: a user's (and tenant's) id in a per-user key. */
export function hashTag(key: string): string | null {
  const open = key.indexOf('{');
  if (open === -1) return null;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}

/**
 * The Redis Cluster slot of a key, as the cluster specification defines it: CRC16 (XMODEM) of
 * the hash tag (what lies between the first `{` and the next `}`, when not empty), else of the
 * whole key, modulo 16384. Checked against CLUSTER KEYSLOT in test/integration/cluster.test.ts.
 */
export function keySlot(key: string): number {
  key = hashTag(key) ?? key;
  let crc = 0;
  // `{` and `}` are single bytes in UTF-8 and never part of another character's: the tag found
  // in the string is the one Redis finds in the bytes.
  for (const byte of Buffer.from(key, 'utf8')) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ byte) & 0xff];
  return crc % SLOTS;
}

let slotTags: string[] | undefined;

/** A short hash tag that falls in `slot` (the first base-36 number that does): built once, on first use. */
function slotTag(slot: number): string {
  if (slotTags === undefined) {
    const tags = new Array<string>(SLOTS);
    for (let n = 0, found = 0; found < SLOTS; n++) {
      const tag = n.toString(36);
      const s = keySlot(tag);
      if (tags[s] === undefined) {
        tags[s] = tag;
        found++;
      }
    }
    slotTags = tags;
  }
  return slotTags[slot];
}

/**
 * The keys of one tenant. The default tenant's keys sit right under the prefix (the layout of a
 * single-shop install, unchanged); another tenant's under `t:{tenant}:`, and its users' hash tags
 * carry the tenant too, so a user's keys stay in one Cluster slot per tenant. No key of one tenant
 * can be another's: tenant ids hold no `:` and an id inside a key never does (keyPart).
 */
export function redisKeys(root: string, tenant = DEFAULT_TENANT): Keys {
  const prefix = tenant === DEFAULT_TENANT ? root : `${root}t:${checkTenantId(tenant)}:`;
  // One hash tag per user: all their keys in one Redis Cluster slot, so one script can write them.
  const userTag = tenant === DEFAULT_TENANT ? (user: string) => keyPart(user) : (user: string) => `${tenant}:${keyPart(user)}`;
  const tag = (user: string) => `{${userTag(user)}}`;
  const recentlyViewed = (user: string) => `${prefix}rv:${tag(user)}`;
  // Was an unordered SET under `bought:` (retiredUserKeys): a new name, so no key of the old type is read as a ZSET.
  const bought = (user: string) => `${prefix}purchased:${tag(user)}`;
  const boughtIds = (user: string) => `${prefix}purchased-ids:${tag(user)}`;
  const occasions = (user: string) => `${prefix}occasions:${tag(user)}`;
  const optOut = (user: string) => `${prefix}optout:${tag(user)}`;
  const profile = (user: string) => `${prefix}profile:${tag(user)}`;
  const alias = (user: string) => `${prefix}alias:${tag(user)}`;
  const variants = (user: string) => `${prefix}variants:${tag(user)}`;
  const exposed = (user: string) => `${prefix}exposed:${tag(user)}`;
  const retiredUserKeys = (user: string) => [`${prefix}bought:${tag(user)}`];
  return {
    current: `${prefix}current`,
    meta: (v) => `${prefix}meta:v${v}:info`,
    neighbours: (v, item) => `${prefix}cf:v${v}:${item}`,
    brand: (v, brand) => `${prefix}brand:v${v}:${brand}`,
    popular: (v, category) => (category === undefined ? `${prefix}pop:v${v}:all` : `${prefix}pop:v${v}:cat:${category}`),
    item: (v, item) => `${prefix}item:v${v}:${item}`,
    itemRepeat: (v, item) => `${prefix}rep:v${v}:${item}`,
    // Every versioned key has ":v{N}:" in it, so v1's pattern never matches v10's keys.
    versionPattern: (v) => `${globLiteral(prefix)}*:v${v}:*`,
    isVersionKey: (key, v) => key.startsWith(prefix) && MODEL_KINDS.some((kind) => key.startsWith(`${kind}:v${v}:`, prefix.length)),
    recentlyViewed,
    bought,
    boughtIds,
    occasions,
    optOut,
    erased: (user) => `${prefix}erased:${tag(user)}`,
    alias,
    variants,
    profile,
    mail: (user, mailId) => `${prefix}mail:${tag(user)}:${keyPart(mailId)}`,
    userMailPattern: (user) => `${globLiteral(`${prefix}mail:${tag(user)}:`)}*`,
    exposed,
    deferredExposure: (user, requestId) => `${prefix}deferred:${tag(user)}:${keyPart(requestId)}`,
    userDeferredPattern: (user) => `${globLiteral(`${prefix}deferred:${tag(user)}:`)}*`,
    userKeys: (user) => [recentlyViewed(user), bought(user), boughtIds(user), occasions(user), optOut(user), profile(user), alias(user), variants(user), exposed(user), ...retiredUserKeys(user)],
    retiredUserKeys,
    flagsSynced: `${prefix}flags:synced`,
    flagsSyncing: `${prefix}flags:syncing`,
    flagsSyncedIn: (slot) => `${prefix}flags:synced:{${slotTag(slot)}}`,
    flagsSyncingIn: (slot) => `${prefix}flags:syncing:{${slotTag(slot)}}`,
    userTag,
    userSlot: (user) => keySlot(tag(user)),
    rateLimit: (keyPrefix) => `${prefix}ratelimit:${keyPrefix}`,
    buildLock: `${prefix}build:lock`,
  };
}
