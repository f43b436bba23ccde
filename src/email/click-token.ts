// Click tokens: what a tracked link (GET /v1/r/{token}) needs, sealed, so the redirect target and
// the attribution can be trusted without a lookup, no one can make us redirect elsewhere, and a
// forwarded email shows nothing readable (the customer id is inside).
//   token = base64url(1 | nonce(12) | AES-256-GCM(JSON [tenant, request_id, user, item, position, variant, target, expiresAt]) | tag(16))
// Keys are derived from the signing secret with HKDF. The nonce is an HMAC of the block's
// plaintexts and the link's place in it (the synthetic-IV construction): the same link comes out
// byte-identical each time a block is made, which the block's ETag needs, and two different links
// never share a nonce.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { isWebUrl } from '../recommend/links.ts';
import { SECONDS_PER_DAY } from '../lib/time.ts';

export interface Click {
  /** The shop whose block held the link: the click is its event. */
  tenant: string;
  requestId: string;
  /** null: a block for no one in particular (no click event is stored). */
  user: string | null;
  item: string;
  /** 1-based place of the item in its block. */
  position: number;
  /** The experiment variant the block was served under, if any. */
  variant: string | null;
  /** Where the link leads: the product page (http or https only). */
  target: string;
}

export type ClickCheck = { ok: true; click: Click } | { ok: false; reason: 'malformed' | 'invalid' | 'expired' };

const FORMAT = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const derived = new Map<string, { key: KeyObject; nonceKey: KeyObject }>();

function keysOf(secret: string): { key: KeyObject; nonceKey: KeyObject } {
  let keys = derived.get(secret);
  if (keys === undefined) {
    // Key objects, made once: a raw key would be imported again by every cipher and HMAC.
    const derive = (info: string) => createSecretKey(Buffer.from(hkdfSync('sha256', secret, '', info, 32)));
    keys = { key: derive('recs click token: encryption'), nonceKey: derive('recs click token: nonce') };
    derived.set(secret, keys);
  }
  return keys;
}

/**
 * Expiry of links made at `nowMs`: at least `ttlSeconds` ahead, rounded up to the next UTC
 * midnight, so the links (and the block holding them) stay byte-identical all day.
 */
export function linkExpiry(nowMs: number, ttlSeconds: number): number {
  return (Math.floor(nowMs / 1000 / SECONDS_PER_DAY) + 1) * SECONDS_PER_DAY + ttlSeconds;
}

/** One link's token (a block's links: encodeClickTokens). */
export function encodeClickToken(click: Click, secret: string, expiresAt: number): string {
  return encodeClickTokens([click], secret, expiresAt)[0];
}

/**
 * The tokens of a block's links. One HMAC of all their plaintexts gives the block's nonce, and
 * each link's nonce is that one with its index XORed into the last 4 bytes: unique within the
 * block, a fresh 96-bit value for any other content, the same for the same block (an HMAC per
 * link was a third of a 6-link block's token cost).
 */
export function encodeClickTokens(clicks: readonly Click[], secret: string, expiresAt: number): string[] {
  const { key, nonceKey } = keysOf(secret);
  const plains = clicks.map((click) => {
    if (!isWebUrl(click.target)) throw new Error(`click target is not an http(s) URL: "${click.target}"`);
    return Buffer.from(JSON.stringify([click.tenant, click.requestId, click.user, click.item, click.position, click.variant, click.target, expiresAt]));
  });
  const digest = createHmac('sha256', nonceKey);
  const length = Buffer.alloc(4);
  for (const plain of plains) {
    length.writeUInt32BE(plain.length); // framed, so no two lists of plaintexts hash alike
    digest.update(length).update(plain);
  }
  const blockNonce = digest.digest().subarray(0, NONCE_BYTES);
  const last = blockNonce.readUInt32BE(NONCE_BYTES - 4);
  return plains.map((plain, i) => {
    // One buffer per token: format, nonce, ciphertext (GCM's is as long as the plaintext), tag.
    const sealed = Buffer.allocUnsafe(1 + NONCE_BYTES + plain.length + TAG_BYTES);
    sealed[0] = FORMAT;
    blockNonce.copy(sealed, 1);
    sealed.writeUInt32BE((last ^ i) >>> 0, NONCE_BYTES - 3);
    const cipher = createCipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE_BYTES));
    cipher.update(plain).copy(sealed, 1 + NONCE_BYTES);
    cipher.final();
    cipher.getAuthTag().copy(sealed, 1 + NONCE_BYTES + plain.length);
    return sealed.toString('base64url');
  });
}

function parse(plain: Buffer): { click: Click; expiresAt: number } | null {
  try {
    const [tenant, requestId, user, item, position, variant, target, expiresAt] = JSON.parse(plain.toString('utf8')) as unknown[];
    const optionalString = (v: unknown) => v === null || typeof v === 'string';
    if (
      typeof tenant !== 'string' ||
      typeof requestId !== 'string' ||
      !optionalString(user) ||
      typeof item !== 'string' ||
      !Number.isInteger(position) ||
      !optionalString(variant) ||
      typeof target !== 'string' ||
      !isWebUrl(target) ||
      !Number.isSafeInteger(expiresAt)
    )
      return null;
    return { click: { tenant, requestId, user: user as string | null, item, position: position as number, variant: variant as string | null, target }, expiresAt: expiresAt as number };
  } catch {
    return null;
  }
}

/** Opens the token: `invalid` unless it was sealed with this secret and left unchanged; `expired` only for a genuine one. */
export function decodeClickToken(token: string, secret: string, now = Date.now()): ClickCheck {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return { ok: false, reason: 'malformed' };
  const sealed = Buffer.from(token, 'base64url');
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES + 2 || sealed[0] !== FORMAT) return { ok: false, reason: 'malformed' };
  const { key } = keysOf(secret);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE_BYTES));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const opened = parse(plain);
  if (opened === null) return { ok: false, reason: 'malformed' };
  return opened.expiresAt * 1000 > now ? { ok: true, click: opened.click } : { ok: false, reason: 'expired' };
}
