// Number and date formats shared by the HTML report and the CLI, so both say the same thing the same way.
import type { IntervalJson } from './report.ts';

export const DASH = '–';

export function percent(x: number | null, digits = 1): string {
  return x === null ? DASH : `${(x * 100).toFixed(digits)}%`;
}

/** +19.0% / −4.2%: a change, always signed. */
export function signedPercent(x: number | null, digits = 1): string {
  if (x === null) return DASH;
  const p = (x * 100).toFixed(digits);
  return x > 0 ? `+${p}%` : x < 0 ? `−${p.slice(1)}%` : `${p}%`;
}

export function money(x: number | null): string {
  return x === null ? DASH : x.toFixed(2);
}

/** +1.25 / −0.40: a difference of amounts, always signed. */
export function signedMoney(x: number): string {
  const m = x.toFixed(2);
  return x > 0 ? `+${m}` : x < 0 ? `−${m.slice(1)}` : m;
}

/** "GBP"; "unknown currency" for items the catalog has none for. */
export function currencyLabel(currency: string | null): string {
  return currency ?? 'unknown currency';
}

/** "+5.1% to +33.2%" (a relative lift's interval). */
export function liftInterval(ci: IntervalJson): string {
  return `${signedPercent(ci.low)} to ${signedPercent(ci.high)}`;
}

/** "[42.8%, 49.4%]", or nothing without an interval. */
export function bracketed(ci: IntervalJson | null, format: (x: number) => string): string {
  return ci ? `[${format(ci.low)}, ${format(ci.high)}]` : '';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "4 Dec 2026, 21:48 UTC" from an ISO timestamp; a dash for none. */
export function humanDate(iso: string | null): string {
  if (iso === null) return DASH;
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

/** "p = 0.0213", "p < 0.0001". */
export function pValue(p: number): string {
  return p < 0.0001 ? 'p < 0.0001' : `p = ${p.toFixed(4)}`;
}
