const NUMERIC = /^\d+(\.\d+)?$/;
const SQL_STYLE = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(:\d{2}(\.\d+)?)?)( ?(UTC|Z|[+-]\d{2}:?\d{2}))?$/;

// Unix seconds stop being plausible (year 5138) where milliseconds start (1973).
const MILLIS_THRESHOLD = 1e11;

/**
 * Parses the timestamp shapes found in shop exports: unix seconds or milliseconds,
 * ISO 8601 with or without offset, and "YYYY-MM-DD HH:MM:SS[ UTC]". A time without zone is
 * taken as UTC. Returns null for anything else (including impossible dates).
 */
export function parseTimestamp(raw: string): Date | null {
  const text = raw.trim();
  if (!text) return null;
  let ms: number;
  if (NUMERIC.test(text)) {
    const value = Number(text);
    ms = value >= MILLIS_THRESHOLD ? value : value * 1000;
  } else {
    const m = SQL_STYLE.exec(text);
    if (!m) return null;
    const zone = m[6] === undefined || m[6] === 'UTC' || m[6] === 'Z' ? 'Z' : m[6].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
    ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
    // Date.parse rolls 2019-02-31 over to March; reject dates that do not survive a round trip.
    if (Number.isFinite(ms) && zone === 'Z' && new Date(ms).toISOString().slice(0, 10) !== m[1]) return null;
  }
  if (!Number.isFinite(ms)) return null;
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  return year >= 1970 && year <= 2200 ? date : null;
}
