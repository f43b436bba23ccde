// Click tokens: what a tracked link (GET /v1/r/{token}) needs, signed, so the redirect target and
// the attribution can be trusted without a lookup and no one can make us redirect elsewhere.
//   token = base64url(JSON [1, request_id, user, item, position, variant, target]) "." expiresAt "." HMAC
// The HMAC (src/auth/signing.ts, purpose "click") covers the payload and the expiry.
import { signToken, verifyToken } from '../auth/signing.ts';

export interface Click {
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

const PURPOSE = 'click';
const FORMAT = 1;
const DAY_SECONDS = 86_400;

export function isWebUrl(url: string): boolean {
  return /^https?:\/\/[^\s/?#]+/i.test(url) && URL.canParse(url);
}

/**
 * Expiry of links made at `nowMs`: at least `ttlSeconds` ahead, rounded up to the next UTC
 * midnight, so the links (and the block holding them) stay byte-identical all day.
 */
export function linkExpiry(nowMs: number, ttlSeconds: number): number {
  return (Math.floor(nowMs / 1000 / DAY_SECONDS) + 1) * DAY_SECONDS + ttlSeconds;
}

export function encodeClickToken(click: Click, secret: string, expiresAt: number): string {
  if (!isWebUrl(click.target)) throw new Error(`click target is not an http(s) URL: "${click.target}"`);
  const payload = Buffer.from(JSON.stringify([FORMAT, click.requestId, click.user, click.item, click.position, click.variant, click.target])).toString('base64url');
  return `${payload}.${signToken(secret, PURPOSE, payload, expiresAt)}`;
}

function parsePayload(payload: string): Click | null {
  try {
    const [format, requestId, user, item, position, variant, target] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
    const optionalString = (v: unknown) => v === null || typeof v === 'string';
    if (format !== FORMAT || typeof requestId !== 'string' || !optionalString(user) || typeof item !== 'string'
      || !Number.isInteger(position) || !optionalString(variant) || typeof target !== 'string' || !isWebUrl(target)) return null;
    return { requestId, user: user as string | null, item, position: position as number, variant: variant as string | null, target };
  } catch {
    return null;
  }
}

/** Checks the signature first: `expired` and the payload are only ever reported for a genuine token. */
export function decodeClickToken(token: string, secret: string, now = Date.now()): ClickCheck {
  const dot = token.indexOf('.');
  if (dot <= 0) return { ok: false, reason: 'malformed' };
  const payload = token.slice(0, dot);
  const check = verifyToken(token.slice(dot + 1), secret, PURPOSE, payload, now);
  if (!check.ok) return check;
  const click = parsePayload(payload);
  return click ? { ok: true, click } : { ok: false, reason: 'malformed' };
}
