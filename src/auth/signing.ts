// HMAC-SHA256 signatures with an expiry, shared by user tokens (here) and signed email URLs and
// click tokens (src/routes/email): one scheme, one place to get constant-time checks right.
//
// The MAC covers `${purpose}.${expiresAt}.${message}`: the purpose keeps a signature made for one
// use (a user token) from being replayed as another (a click token) under the same secret, and
// since neither the purpose nor the expiry (digits) contains a dot, the split is unambiguous.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = { ok: true } | { ok: false; reason: 'malformed' | 'invalid' | 'expired' };

const PURPOSE = /^[a-z][a-z0-9-]*$/;
const EXPIRY = /^\d{1,12}$/;

/** base64url HMAC-SHA256 of `purpose.expiresAt.message`; expiresAt in Unix seconds. */
export function sign(secret: string, purpose: string, message: string, expiresAt: number): string {
  if (secret === '') throw new Error('signing needs a secret');
  if (!PURPOSE.test(purpose)) throw new Error(`bad signature purpose "${purpose}"`);
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) throw new Error(`bad expiry ${expiresAt}`);
  return createHmac('sha256', secret).update(`${purpose}.${expiresAt}.${message}`).digest('base64url');
}

/** Equal strings, in time that does not depend on where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks a signature made by `sign` (e.g. `exp` and `sig` query parameters of a URL). The
 * signature is checked before the expiry, so `expired` only ever describes a genuine signature.
 */
export function verifySignature(signature: string, secret: string, purpose: string, message: string, expiresAt: number, now = Date.now()): SignatureCheck {
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) return { ok: false, reason: 'malformed' };
  if (!safeEqual(signature, sign(secret, purpose, message, expiresAt))) return { ok: false, reason: 'invalid' };
  return expiresAt * 1000 > now ? { ok: true } : { ok: false, reason: 'expired' };
}

/** A compact token `expiresAt.signature`, for a message the verifier already knows. */
export function signToken(secret: string, purpose: string, message: string, expiresAt: number): string {
  return `${expiresAt}.${sign(secret, purpose, message, expiresAt)}`;
}

export function verifyToken(token: string, secret: string, purpose: string, message: string, now = Date.now()): SignatureCheck {
  const dot = token.indexOf('.');
  const expiry = token.slice(0, dot);
  if (dot < 0 || !EXPIRY.test(expiry)) return { ok: false, reason: 'malformed' };
  return verifySignature(token.slice(dot + 1), secret, purpose, message, Number(expiry), now);
}
