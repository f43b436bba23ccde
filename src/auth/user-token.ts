// Signed user tokens: a shop's backend vouches that the browser showing a widget belongs to
// `user`, so an origin-restricted (widget) key cannot read another user's history by guessing
// their id. token = `${expiresAt}.${base64url(HMAC-SHA256(secret, "user." + expiresAt + "." + user))}`.
import { signToken, verifyToken, type SignatureCheck } from './signing.ts';

const PURPOSE = 'user';

/** A token for `user`, valid for `ttlSeconds` from `now` (Unix ms). */
export function signUserToken(user: string, secret: string, ttlSeconds: number, now = Date.now()): string {
  return signToken(secret, PURPOSE, user, Math.floor(now / 1000) + ttlSeconds);
}

export function verifyUserToken(token: string, user: string, secret: string, now = Date.now()): SignatureCheck {
  return verifyToken(token, secret, PURPOSE, user, now);
}
