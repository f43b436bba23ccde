// API keys: `recs_<id>_<secret>`, 12 hex digits of public id (the prefix `recs_<id>` names the key
// in logs and the CLI) and 32 random bytes of secret. Only a SHA-256 of the whole key is stored:
// the secret has 256 bits of entropy, so a fast hash is enough (no password hashing needed).
import { createHash, randomBytes } from 'node:crypto';
import { safeEqual } from './signing.ts';

export type Scope = 'read' | 'write';
export const SCOPES: readonly Scope[] = ['read', 'write'];

export interface NewApiKey {
  /** The whole key: shown once, never stored. */
  key: string;
  prefix: string;
  hash: string;
}

const KEY = /^(recs_[0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): NewApiKey {
  const prefix = `recs_${randomBytes(6).toString('hex')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** The prefix of a well-formed key, else null (no lookup is spent on garbage). */
export function keyPrefix(key: string): string | null {
  return KEY.exec(key)?.[1] ?? null;
}

/** Whether `key` hashes to `hash`, compared in constant time. */
export function matchesHash(key: string, hash: string): boolean {
  return safeEqual(hashApiKey(key), hash);
}

/** `https://Shop.example:443` → `https://shop.example`: the form browsers send in Origin. */
export function normalizeOrigin(origin: string): string {
  const url = URL.canParse(origin) ? new URL(origin) : null;
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new Error(`not an origin: "${origin}" (scheme, host and optional port, e.g. https://shop.example)`);
  }
  return url.origin;
}
