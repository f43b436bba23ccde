// Purchase transactions → each customer's distinct purchase days (UTC) with the day's
// revenue: the one input of the summaries, RFM and the BG/NBD and Gamma–Gamma data.
// Several purchases on one day are one purchase occasion, as in the models' papers.
import type { RftData } from './bgnbd.ts';
import { DAY_MS, SECONDS_PER_DAY } from '../lib/time.ts';

export const UNIT_DAYS = { day: 1, week: 7 } as const;
export type TimeUnit = keyof typeof UNIT_DAYS;

// Days are packed with the customer rank into one sort key: 2^17 days reach the year 2328.
const DAY_LIMIT = 1 << 17;

export interface Purchase {
  user: string;
  /** Unix seconds. */
  ts: number;
  /** quantity × price; 0 when the price is unknown. */
  revenue: number;
}

/** Customers in id order; customer i's days are day[start[i] .. start[i+1]), ascending, distinct. */
export interface PurchaseDays {
  userIds: string[];
  start: Uint32Array;
  /** Days since 1970-01-01 (UTC). */
  day: Int32Array;
  revenue: Float64Array;
}

export function dayOf(unixSeconds: number): number {
  return Math.floor(unixSeconds / SECONDS_PER_DAY);
}

/** A day number as YYYY-MM-DD (UTC). */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function purchaseDays(purchases: Iterable<Purchase>): PurchaseDays {
  const index = new Map<string, number>();
  const users: number[] = [];
  const days: number[] = [];
  const revenues: number[] = [];
  for (const { user, ts, revenue } of purchases) {
    const day = dayOf(ts);
    if (!(day >= 0 && day < DAY_LIMIT)) throw new RangeError(`purchase of ${user}: time ${ts} is outside 1970..2328`);
    if (!(revenue >= 0 && Number.isFinite(revenue))) throw new RangeError(`purchase of ${user}: revenue ${revenue} is not a number ≥ 0`);
    let u = index.get(user);
    if (u === undefined) index.set(user, (u = index.size));
    users.push(u);
    days.push(day);
    revenues.push(revenue);
  }
  const userIds = [...index.keys()].sort();
  const rank = new Uint32Array(userIds.length);
  userIds.forEach((id, r) => {
    rank[index.get(id)!] = r;
  });
  const key = Float64Array.from(users, (u, i) => rank[u] * DAY_LIMIT + days[i]);
  const order = Uint32Array.from(key.keys()).sort((i, j) => key[i] - key[j]);

  const start = new Uint32Array(userIds.length + 1);
  const outDay: number[] = [];
  const outRevenue: number[] = [];
  let lastKey = -1;
  for (const i of order) {
    if (key[i] === lastKey) {
      outRevenue[outRevenue.length - 1] += revenues[i];
      continue;
    }
    lastKey = key[i];
    start[rank[users[i]] + 1]++;
    outDay.push(days[i]);
    outRevenue.push(revenues[i]);
  }
  for (let u = 0; u < userIds.length; u++) start[u + 1] += start[u];
  return { userIds, start, day: Int32Array.from(outDay), revenue: Float64Array.from(outRevenue) };
}

export interface CalibrationSplit {
  /** Customers with a purchase on or before the last calibration day, their days up to it. */
  calibration: PurchaseDays;
  /** Per calibration customer: purchase days after the calibration period. */
  holdoutPurchases: Uint32Array;
  /** Customers whose first purchase comes after the calibration period. */
  newInHoldout: number;
}

export function splitAtDay(days: PurchaseDays, lastCalibrationDay: number): CalibrationSplit {
  const userIds: string[] = [];
  const start = [0];
  const day: number[] = [];
  const revenue: number[] = [];
  const holdout: number[] = [];
  let newInHoldout = 0;
  for (let u = 0; u < days.userIds.length; u++) {
    let later = 0;
    for (let k = days.start[u]; k < days.start[u + 1]; k++) {
      if (days.day[k] <= lastCalibrationDay) {
        day.push(days.day[k]);
        revenue.push(days.revenue[k]);
      } else {
        later++;
      }
    }
    if (day.length === start[start.length - 1]) {
      newInHoldout++;
      continue;
    }
    userIds.push(days.userIds[u]);
    start.push(day.length);
    holdout.push(later);
  }
  return {
    calibration: { userIds, start: Uint32Array.from(start), day: Int32Array.from(day), revenue: Float64Array.from(revenue) },
    holdoutPurchases: Uint32Array.from(holdout),
    newInHoldout,
  };
}

/**
 * BG/NBD input as of `endDay` (the last observed day, inclusive): x = purchase days after the
 * first, t_x = last − first, T = endDay − first, in `unit`s.
 */
export function rftData(days: PurchaseDays, endDay: number, unit: TimeUnit): RftData {
  const n = days.userIds.length;
  const rft: RftData = { x: new Float64Array(n), tx: new Float64Array(n), T: new Float64Array(n) };
  for (let u = 0; u < n; u++) {
    const first = days.day[days.start[u]];
    const last = days.day[days.start[u + 1] - 1];
    if (last > endDay) throw new RangeError(`customer ${days.userIds[u]} buys after the end day`);
    rft.x[u] = days.start[u + 1] - days.start[u] - 1;
    rft.tx[u] = (last - first) / UNIT_DAYS[unit];
    rft.T[u] = (endDay - first) / UNIT_DAYS[unit];
  }
  return rft;
}

/** Per customer: average revenue of the purchase days after the first (0 without any). */
export function repeatSpend(days: PurchaseDays): Float64Array {
  const n = days.userIds.length;
  const out = new Float64Array(n);
  for (let u = 0; u < n; u++) {
    const repeats = days.start[u + 1] - days.start[u] - 1;
    let sum = 0;
    for (let k = days.start[u] + 1; k < days.start[u + 1]; k++) sum += days.revenue[k];
    out[u] = repeats > 0 ? sum / repeats : 0;
  }
  return out;
}
