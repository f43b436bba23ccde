// Signed user tokens: a shop's backend vouches that the browser showing a widget belongs to
// `user`, so an origin-restricted (widget) key cannot read another user's history by guessing
// their id. token = `${expiresAt}.${base64url(HMAC-SHA256(secret, "user." + expiresAt + "." + user))}`,
// where secret is the tenant's own (tenantUserTokenSecret): a shop's backend can vouch for its
// own customers only, never for a user id of another shop served by the same install.
import { createHmac } from 'node:crypto';
import { DEFAULT_TENANT } from '../tenant.ts';
import { signToken, verifyToken, type SignatureCheck } from './signing.ts';

const PURPOSE = 'user';

/**
 * The secret a tenant's backend signs its user tokens with, derived from the server's
 * USER_TOKEN_SECRET: base64url(HMAC-SHA256(USER_TOKEN_SECRET, "tenant-user-token." + tenant)). The
 * `default` tenant (a single-shop install) signs with USER_TOKEN_SECRET itself, as before tenants.
 */
export function tenantUserTokenSecret(serverSecret: string, tenant: string): string {
  if (tenant === DEFAULT_TENANT || serverSecret === '') return serverSecret;
  return createHmac('sha256', serverSecret).update(`tenant-user-token.${tenant}`).digest('base64url');
}

/** A token for `user`, valid for `ttlSeconds` from `now` (Unix ms); `secret`: the tenant's. */
export function signUserToken(user: string, secret: string, ttlSeconds: number, now = Date.now()): string {
  return signToken(secret, PURPOSE, user, Math.floor(now / 1000) + ttlSeconds);
}

export function verifyUserToken(token: string, user: string, secret: string, now = Date.now()): SignatureCheck {
  return verifyToken(token, secret, PURPOSE, user, now);
}
