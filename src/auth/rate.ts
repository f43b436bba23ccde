// Rates as operators write them: "100/s", "6000/min", "20000/h".

export interface Rate {
  /** Requests allowed per window. */
  limit: number;
  windowSeconds: number;
}

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  /** Seconds until the window resets: the Retry-After of a refused request. */
  resetSeconds: number;
}

const UNITS: Record<string, number> = { s: 1, min: 60, h: 3600 };

export function parseRate(text: string): Rate {
  const match = /^(\d{1,9})\/(s|min|h)$/.exec(text.trim());
  const limit = Number(match?.[1]);
  if (!match || limit < 1) throw new Error(`bad rate "${text}" (expected N/s, N/min or N/h with N >= 1, e.g. 100/s)`);
  return { limit, windowSeconds: UNITS[match[2]] };
}

export function formatRate(rate: Rate): string {
  const unit = Object.keys(UNITS).find((u) => UNITS[u] === rate.windowSeconds);
  return unit ? `${rate.limit}/${unit}` : `${rate.limit} per ${rate.windowSeconds} s`;
}
