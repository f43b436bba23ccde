// Signed email URLs: a shop's backend (or its ESP) puts `exp` and `sig` on a block URL, so the
// URL alone lets its holder read that one user's block, without an API key, until it expires.
//   sig = base64url(HMAC-SHA256(secret, "email-url." + exp + "." + JSON.stringify([user, mail_id])))
// with mail_id null when the URL has none (src/auth/signing.ts holds the scheme); for a tenant
// other than `default`, the JSON is [user, mail_id, tenant] (the URL's `tenant` parameter), so a
// URL signed for one shop never opens another's. Default-tenant URLs read as they always did.
import { sign, verifySignature, type SignatureCheck } from '../auth/signing.ts';
import { DEFAULT_TENANT } from '../tenant.ts';

const PURPOSE = 'email-url';

const message = (user: string, mailId: string | null, tenant: string) => JSON.stringify(tenant === DEFAULT_TENANT ? [user, mailId] : [user, mailId, tenant]);

export function signEmailUrl(secret: string, user: string, mailId: string | null, expiresAt: number, tenant = DEFAULT_TENANT): string {
  return sign(secret, PURPOSE, message(user, mailId, tenant), expiresAt);
}

export function verifyEmailUrl(sig: string, secret: string, user: string, mailId: string | null, expiresAt: number, now = Date.now(), tenant = DEFAULT_TENANT): SignatureCheck {
  return verifySignature(sig, secret, PURPOSE, message(user, mailId, tenant), expiresAt, now);
}
