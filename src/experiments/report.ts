// The experiment report as the API returns it (snake_case JSON): per-variant metrics from the
// stored totals, lifts vs control and the sample-ratio check. Pure: the maths is in stats.ts.
import { controlOf, type Experiment, type Variant } from './definition.ts';
import type { VariantTotals } from '../store/experiments.ts';
import { compare, meanInterval, proportionSample, sampleRatioMismatch, SRM_P_VALUE, type Comparison, type Interval, type Sample } from './stats.ts';

export interface IntervalJson {
  low: number;
  high: number;
}

export interface LiftJson {
  difference: number;
  difference_ci: IntervalJson;
  relative: number | null;
  relative_ci: { low: number | null; high: number | null };
  p_value: number;
  significant: boolean;
}

export interface VariantReport {
  key: string;
  strategy: string;
  params: Variant['params'];
  control: boolean;
  /** Expected share of visitors, from the weights. */
  expected_share: number;
  visitors: number;
  exposures: number;
  clicks: number;
  /** clicks / exposures */
  ctr: number | null;
  converters: number;
  /** converting visitors / visitors */
  conversion_rate: number | null;
  conversion_rate_ci: IntervalJson | null;
  revenue: number;
  revenue_per_visitor: number | null;
  revenue_per_visitor_ci: IntervalJson | null;
  /** vs the control; null on the control itself, or with too few visitors. */
  lift: { conversion_rate: LiftJson | null; revenue_per_visitor: LiftJson | null } | null;
}

export interface Report {
  experiment: { id: string; name: string | null; status: string; started_at: string | null; stopped_at: string | null; control: string };
  generated_at: string;
  attribution_window_days: number;
  confidence_level: number;
  method: string;
  variants: VariantReport[];
  /** chi_square null: visitors in a variant of weight 0 (an impossible fit, p = 0). */
  srm: { chi_square: number | null; df: number; p_value: number; threshold: number; mismatch: boolean };
}

export const CONFIDENCE_LEVEL = 0.95;
const METHOD = "Welch's t interval on the difference of per-visitor means; relative lift with Fieller's interval at the same t quantile; SRM: chi-square goodness of fit of visitors vs weights";

const empty = (variant: string): VariantTotals => ({ variant, visitors: 0, exposures: 0, clicks: 0, converters: 0, revenue: 0, revenueSquares: 0 });
const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
const interval = (i: Interval | null): IntervalJson | null => (i ? { low: i.low, high: i.high } : null);

function liftJson(c: Comparison | null): LiftJson | null {
  if (!c) return null;
  return {
    difference: c.difference.estimate,
    difference_ci: { low: c.difference.low, high: c.difference.high },
    relative: c.relative.estimate,
    relative_ci: { low: c.relative.low, high: c.relative.high },
    p_value: c.pValue,
    significant: c.pValue < 1 - CONFIDENCE_LEVEL,
  };
}

const revenueSample = (t: VariantTotals): Sample => ({ n: t.visitors, sum: t.revenue, sumSquares: t.revenueSquares });
const conversionSample = (t: VariantTotals): Sample => proportionSample(t.converters, t.visitors);

export function buildReport(experiment: Experiment, totals: readonly VariantTotals[], attributionWindowDays: number, now = new Date()): Report {
  const byKey = new Map(totals.map((t) => [t.variant, t]));
  const rows = experiment.variants.map((v) => ({ v, t: byKey.get(v.key) ?? empty(v.key) }));
  const control = controlOf(experiment);
  const base = rows.find((r) => r.v.key === control.key)!.t;
  const weightSum = experiment.variants.reduce((sum, v) => sum + v.weight, 0);
  const srm = sampleRatioMismatch(rows.map((r) => r.t.visitors), experiment.variants.map((v) => v.weight));
  return {
    experiment: {
      id: experiment.id, name: experiment.name, status: experiment.status, control: control.key,
      started_at: experiment.startedAt?.toISOString() ?? null, stopped_at: experiment.stoppedAt?.toISOString() ?? null,
    },
    generated_at: now.toISOString(),
    attribution_window_days: attributionWindowDays,
    confidence_level: CONFIDENCE_LEVEL,
    method: METHOD,
    variants: rows.map(({ v, t }) => ({
      key: v.key, strategy: v.strategy, params: v.params, control: v.control,
      expected_share: v.weight / weightSum,
      visitors: t.visitors, exposures: t.exposures, clicks: t.clicks, ctr: ratio(t.clicks, t.exposures),
      converters: t.converters, conversion_rate: ratio(t.converters, t.visitors),
      conversion_rate_ci: interval(meanInterval(conversionSample(t), CONFIDENCE_LEVEL)),
      revenue: t.revenue, revenue_per_visitor: ratio(t.revenue, t.visitors),
      revenue_per_visitor_ci: interval(meanInterval(revenueSample(t), CONFIDENCE_LEVEL)),
      lift: v.control ? null : {
        conversion_rate: liftJson(compare(conversionSample(t), conversionSample(base), CONFIDENCE_LEVEL)),
        revenue_per_visitor: liftJson(compare(revenueSample(t), revenueSample(base), CONFIDENCE_LEVEL)),
      },
    })),
    srm: { chi_square: Number.isFinite(srm.statistic) ? srm.statistic : null, df: srm.df, p_value: srm.pValue, threshold: SRM_P_VALUE, mismatch: srm.mismatch },
  };
}
