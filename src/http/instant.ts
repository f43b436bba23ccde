// Timestamps the API accepts: RFC 3339 date-times that name a real instant. Ajv's "date-time"
// format accepts a leap second (23:59:60), which JavaScript cannot represent: the Date was
// Invalid and PostgreSQL refused the whole batch (a 500, forever on retry). Here every field is
// checked against the calendar, seconds stop at 59, and the year stays in 1970..2200 (as imports).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

export const MIN_YEAR = 1970;
export const MAX_YEAR = 2200;

/** The instant in Unix ms, or null when `text` is not one. */
export function parseInstant(text: string): number | null {
  const m = RFC3339.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  if (day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return null;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Ajv plugin: every request field of format `date-time` is an instant, so no route can take a
 * leap second or the 31st of April into a `new Date()` (the next route cannot forget it).
 */
export function instantFormat<A extends { addFormat(name: string, validate: (text: string) => boolean): unknown }>(ajv: A): A {
  ajv.addFormat('date-time', (text) => parseInstant(text) !== null);
  return ajv;
}
