// Signed email URLs: a shop's backend (or its ESP) puts `exp` and `sig` on a block URL, so the
// URL alone lets its holder read that one user's block, without an API key, until it expires.
//   sig = base64url(HMAC-SHA256(secret, "email-url." + exp + "." + JSON.stringify([user, mail_id])))
// with mail_id null when the URL has none (src/auth/signing.ts holds the scheme).
import { sign, verifySignature, type SignatureCheck } from '../auth/signing.ts';

const PURPOSE = 'email-url';

const message = (user: string, mailId: string | null) => JSON.stringify([user, mailId]);

export function signEmailUrl(secret: string, user: string, mailId: string | null, expiresAt: number): string {
  return sign(secret, PURPOSE, message(user, mailId), expiresAt);
}

export function verifyEmailUrl(sig: string, secret: string, user: string, mailId: string | null, expiresAt: number, now = Date.now()): SignatureCheck {
  return verifySignature(sig, secret, PURPOSE, message(user, mailId), expiresAt, now);
}
