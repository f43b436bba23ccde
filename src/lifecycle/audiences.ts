// Audiences: who, among the customers of one lifecycle build, a campaign or an experiment is
// for. One definition per audience, used both by the exports (GET /v1/audiences) and by
// audience-limited experiments at assignment time, so the two always agree. Everything is as
// of the build's reference day (its newest purchase), so membership is fixed per version.
import type { ProfileRecord } from './profiles.ts';
import type { Segment } from './rfm.ts';

export const AUDIENCE_NAMES = ['replenishment-due', 'reactivation', 'churn-risk', 'segment'] as const;
export type AudienceName = (typeof AUDIENCE_NAMES)[number];

export type Audience =
  /** Customers in any of the segments. */
  | { name: 'segment'; segments: Segment[] }
  /** Customers with a buy-again item due within this many days (overdue ones included). */
  | { name: 'replenishment-due'; within_days: number }
  /**
   * Customers worth at least min_revenue who are slipping away: P(alive) below max_p_alive, or
   * silent for longer than gap_multiple × their own mean time between orders.
   */
  | { name: 'reactivation'; max_p_alive: number; gap_multiple: number; min_revenue: number }
  /** Customers whose churn risk, 1 − P(alive), is at least min. */
  | { name: 'churn-risk'; min: number };

export const AUDIENCE_DEFAULTS = { within_days: 7, max_p_alive: 0.5, gap_multiple: 2, min_revenue: 0, min: 0.5 } as const;

/** What membership is decided on: a few fields of a customer's profile. */
export interface AudienceFacts {
  segment: Segment;
  /** Null when the shop has no BG/NBD fit. */
  pAlive: number | null;
  recencyDays: number;
  /** Null with one order. */
  meanGapDays: number | null;
  revenue: number;
  /** Days until the customer's soonest due item (< 0: overdue); null without one. */
  nextDueDays: number | null;
}

export function inAudience(f: AudienceFacts, a: Audience): boolean {
  switch (a.name) {
    case 'segment':
      return a.segments.includes(f.segment);
    case 'replenishment-due':
      return f.nextDueDays !== null && f.nextDueDays <= a.within_days;
    case 'churn-risk':
      return f.pAlive !== null && 1 - f.pAlive >= a.min;
    case 'reactivation':
      return f.revenue >= a.min_revenue && ((f.pAlive !== null && f.pAlive < a.max_p_alive) || (f.meanGapDays !== null && f.recencyDays > a.gap_multiple * f.meanGapDays));
  }
}

/** The audience as one canonical string (fields in a fixed order): what a cursor is bound to. */
export function audienceKey(a: Audience): string {
  switch (a.name) {
    case 'segment':
      return `segment:${[...a.segments].sort().join(',')}`;
    case 'replenishment-due':
      return `replenishment-due:${a.within_days}`;
    case 'churn-risk':
      return `churn-risk:${a.min}`;
    case 'reactivation':
      return `reactivation:${a.max_p_alive}:${a.gap_multiple}:${a.min_revenue}`;
  }
}

/** The facts of a stored profile. */
export function recordFacts(row: ProfileRecord): AudienceFacts {
  return {
    segment: row.segment,
    pAlive: row.p_alive,
    recencyDays: row.recency_days,
    meanGapDays: row.mean_gap_days,
    revenue: row.revenue,
    nextDueDays: row.next_due_days,
  };
}
