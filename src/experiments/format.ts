// Number formats shared by the HTML report and the CLI, so both say the same thing the same way.

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

/** "+5.1% to +33.2%"; an open end (Fieller's interval unbounded) reads as ∞. */
export function liftInterval(low: number | null, high: number | null): string {
  return `${low === null ? '−∞' : signedPercent(low)} to ${high === null ? '+∞' : signedPercent(high)}`;
}

/** "p = 0.0213", "p < 0.0001". */
export function pValue(p: number): string {
  return p < 0.0001 ? 'p < 0.0001' : `p = ${p.toFixed(4)}`;
}
