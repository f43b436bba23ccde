// Every customer's lifecycle profile as of one day: the summary, RFM scores and segment, and
// the BG/NBD and Gamma–Gamma predictions, fitted on the same customers (one shop). What the
// build stores per customer (jobs/lib/lifecycle-stage.ts); the models are in days here, so
// "expected purchases in 30 days" is read off directly.
import { expectedPurchasesOf, fitBgNbd, probabilityAlive, type BgNbdFit } from './bgnbd.ts';
import { expectedAverageSpend, fitRepeatSpend, type SpendFit } from './gamma-gamma.ts';
import { repeatSpend, rftData, type PurchaseDays } from './purchase-days.ts';
import type { DueItem } from './replenishment.ts';
import { rfmScores, type Segment } from './rfm.ts';
import { summarizeCustomers } from './summary.ts';
import { customerValues } from './value.ts';

/** Horizons (days) of the expected purchases, and of the customer value. */
export const PURCHASE_HORIZONS = [30, 90] as const;
export const VALUE_HORIZON_DAYS = 365;

export interface CustomerProfile {
  user: string;
  orders: number;
  revenue: number;
  averageOrderValue: number;
  /** Days since 1970-01-01 (UTC). */
  firstDay: number;
  lastDay: number;
  /** Null with one order. */
  meanGapDays: number | null;
  medianGapDays: number | null;
  /** lastDay + median gap; null with one order. */
  expectedNextDay: number | null;
  recencyDays: number;
  recency: number;
  frequency: number;
  monetary: number;
  segment: Segment;
  /** Null when the shop has no BG/NBD fit (nobody bought on two days). */
  pAlive: number | null;
  expectedPurchases30: number | null;
  expectedPurchases90: number | null;
  /** Gamma–Gamma's expected spend per purchase; null without a spend fit (or q ≤ 1). */
  expectedSpend: number | null;
  /** Expected purchases in VALUE_HORIZON_DAYS × expected spend (revenue, undiscounted). */
  customerValue: number | null;
}

/** A profile as the store keeps it and the API reads it (snake_case, dates as YYYY-MM-DD). */
export interface ProfileRecord {
  user_id: string;
  version: number;
  orders: number;
  revenue: number;
  average_order_value: number;
  first_purchase: string;
  last_purchase: string;
  mean_gap_days: number | null;
  median_gap_days: number | null;
  expected_next_purchase: string | null;
  recency_days: number;
  recency_score: number;
  frequency_score: number;
  monetary_score: number;
  segment: Segment;
  p_alive: number | null;
  expected_purchases_30: number | null;
  expected_purchases_90: number | null;
  expected_spend: number | null;
  customer_value: number | null;
  due_items: DueItem[];
  next_due_days: number | null;
}

export interface LifecycleFit {
  asOfDay: number;
  customers: number;
  /** Customers with purchases on two days or more. */
  repeatBuyers: number;
  /** Null when nobody bought twice: the likelihood then has no maximum. */
  bgnbd: BgNbdFit | null;
  spend: SpendFit;
}

const orNull = (v: number) => (Number.isNaN(v) ? null : v);
// Stored and compared as rounded here, once: the PostgreSQL row and the Redis copy agree to the digit.
const round = (digits: number) => (v: number | null) => (v === null ? null : Number(v.toFixed(digits)));
const money = round(2);
const probability = round(6);

/**
 * Profiles of the customers of `days` as of `asOfDay` (the last observed day: no purchase may
 * come after it). Same-day purchases are one order, as in the models' papers.
 */
export function customerProfiles(days: PurchaseDays, asOfDay: number): { fit: LifecycleFit; profiles: CustomerProfile[] } {
  const s = summarizeCustomers(days, 'day');
  const rfm = rfmScores(s, asOfDay);
  const rft = rftData(days, asOfDay, 'day');
  const repeatBuyers = rft.x.reduce((n, x) => n + Number(x > 0), 0);
  const bgnbd = repeatBuyers > 0 ? fitBgNbd(rft) : null;
  const meanSpend = repeatSpend(days);
  const spend = fitRepeatSpend(rft, meanSpend);
  // q ≤ 1: the population's mean spend is infinite, so no spend can be expected of anyone.
  const gg = spend.fit && spend.fit.params.q > 1 ? spend.fit.params : null;
  const values = bgnbd && gg ? customerValues(bgnbd.params, gg, rft, meanSpend, VALUE_HORIZON_DAYS) : null;
  const p = bgnbd?.params;
  const expectedPurchases = p && expectedPurchasesOf(p);
  const profiles = s.userIds.map((user, i): CustomerProfile => {
    const [x, tx, T] = [rft.x[i], rft.tx[i], rft.T[i]];
    const expected = (t: number) => (expectedPurchases ? probability(expectedPurchases(x, tx, T, t)) : null);
    return {
      user,
      orders: s.orders[i],
      revenue: money(s.revenue[i])!,
      averageOrderValue: money(s.averageOrderValue[i])!,
      firstDay: s.firstDay[i],
      lastDay: s.lastDay[i],
      meanGapDays: money(orNull(s.meanGapDays[i])),
      medianGapDays: orNull(s.medianGapDays[i]),
      expectedNextDay: orNull(s.expectedNextDay[i]),
      recencyDays: rfm.recencyDays[i],
      recency: rfm.recency[i],
      frequency: rfm.frequency[i],
      monetary: rfm.monetary[i],
      segment: rfm.segment[i],
      pAlive: p ? probability(probabilityAlive(p, x, tx, T)) : null,
      expectedPurchases30: expected(PURCHASE_HORIZONS[0]),
      expectedPurchases90: expected(PURCHASE_HORIZONS[1]),
      expectedSpend: gg ? money(expectedAverageSpend(gg, x, meanSpend[i])) : null,
      customerValue: values ? money(values[i]) : null,
    };
  });
  return { fit: { asOfDay, customers: profiles.length, repeatBuyers, bgnbd, spend }, profiles };
}
