// The cursor of a paged audience (or of segment moves): opaque to clients, it names the lifecycle version the pages
// are of, the last user given, and the audience with its parameters, so it cannot be replayed
// against another audience or another build's profiles.
import { HttpError } from './errors.ts';

export interface Cursor {
  version: number;
  after: string;
  /** audienceKey() of the audience the pages are of. */
  audience: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.version, c.after, c.audience])).toString('base64url');
}

/** The cursor, if it is one of `audience`'s; 400 naming the cursor otherwise. */
export function decodeCursor(text: string, audience: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || !Number.isSafeInteger(parsed[0]) || typeof parsed[1] !== 'string' || typeof parsed[2] !== 'string') {
    throw new HttpError(400, 'invalid_request', 'cursor is not one this API gave out', 'cursor');
  }
  if (parsed[2] !== audience) throw new HttpError(400, 'invalid_request', 'cursor belongs to another audience or other parameters: repeat the request it came from', 'cursor');
  return { version: parsed[0], after: parsed[1], audience: parsed[2] };
}
