// Per-customer purchase summary: orders, revenue, order value, first and last purchase,
// time between orders and when the next one is due.
import { UNIT_DAYS, type PurchaseDays, type TimeUnit } from './purchase-days.ts';

/** Parallel arrays over `userIds`; gap figures are NaN for customers with one order. */
export interface CustomerSummaries {
  userIds: readonly string[];
  /** Distinct purchase days, or weeks (Monday to Sunday, UTC) with unit = week. */
  orders: Uint32Array;
  revenue: Float64Array;
  averageOrderValue: Float64Array;
  /** Days since 1970-01-01 (UTC). */
  firstDay: Int32Array;
  lastDay: Int32Array;
  /** Days between the first purchase days of consecutive orders. */
  meanGapDays: Float64Array;
  medianGapDays: Float64Array;
  /** lastDay + medianGapDays (2+ orders). */
  expectedNextDay: Float64Array;
}

// 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Monday.
function periodOf(day: number, unit: TimeUnit): number {
  return unit === 'day' ? day : Math.floor((day + 3) / UNIT_DAYS.week);
}

export function summarizeCustomers(days: PurchaseDays, unit: TimeUnit): CustomerSummaries {
  const n = days.userIds.length;
  const s: CustomerSummaries = {
    userIds: days.userIds,
    orders: new Uint32Array(n),
    revenue: new Float64Array(n),
    averageOrderValue: new Float64Array(n),
    firstDay: new Int32Array(n),
    lastDay: new Int32Array(n),
    meanGapDays: new Float64Array(n),
    medianGapDays: new Float64Array(n),
    expectedNextDay: new Float64Array(n),
  };
  for (let u = 0; u < n; u++) {
    const from = days.start[u];
    const to = days.start[u + 1];
    // Each order's first purchase day.
    const orderDays: number[] = [];
    let revenue = 0;
    for (let k = from; k < to; k++) {
      revenue += days.revenue[k];
      if (k === from || periodOf(days.day[k], unit) !== periodOf(days.day[k - 1], unit)) orderDays.push(days.day[k]);
    }
    const gaps = orderDays
      .slice(1)
      .map((d, i) => d - orderDays[i])
      .sort((a, b) => a - b);
    const median = gaps.length === 0 ? NaN : gaps.length % 2 ? gaps[gaps.length >> 1] : (gaps[gaps.length / 2 - 1] + gaps[gaps.length / 2]) / 2;
    s.orders[u] = orderDays.length;
    s.revenue[u] = revenue;
    s.averageOrderValue[u] = revenue / orderDays.length;
    s.firstDay[u] = days.day[from];
    s.lastDay[u] = days.day[to - 1];
    s.meanGapDays[u] = gaps.length === 0 ? NaN : gaps.reduce((a, b) => a + b, 0) / gaps.length;
    s.medianGapDays[u] = median;
    s.expectedNextDay[u] = s.lastDay[u] + median;
  }
  return s;
}
