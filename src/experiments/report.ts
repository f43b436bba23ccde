// The experiment report as the API returns it (snake_case JSON): per-variant metrics from the
// stored totals, lifts vs control and the sample-ratio check. Revenue is reported per currency:
// amounts of different currencies are never added. Pure: the maths is in stats.ts and bootstrap.ts.
import { bcaMeanInterval, RESAMPLES } from './bootstrap.ts';
import { controlOf, type Experiment, type Variant } from './definition.ts';
import { SEGMENTS } from '../lifecycle/rfm.ts';
import type { CurrencyRevenue, VariantTotals } from './totals.ts';
import { compare, MIN_NON_ZERO, proportionSample, sampleRatioMismatch, sparseSample, SRM_P_VALUE, wilsonInterval, type Comparison, type Interval, type RelativeStatus, type Sample } from './stats.ts';

export interface IntervalJson {
  low: number;
  high: number;
}

export interface LiftJson {
  /** Treatment − control. */
  difference: number;
  /** Welch's interval and p-value; null with too few non-zero values to test (relative_note says so). */
  difference_ci: IntervalJson | null;
  p_value: number | null;
  significant: boolean;
  /** Treatment / control − 1 with Fieller's interval; null when not estimable (relative_note says why). */
  relative: number | null;
  relative_ci: IntervalJson | null;
  /** Why relative is null, or why its interval was cut at −100%; null otherwise. */
  relative_note: string | null;
}

export interface RevenueJson {
  /** The purchased items' catalog currency; null: unknown. */
  currency: string | null;
  revenue: number;
  /** Visitors who spent in this currency. */
  buyers: number;
  revenue_per_visitor: number | null;
  revenue_per_visitor_ci: IntervalJson | null;
  /** Why there is no interval; null when there is one (or no visitors). */
  revenue_per_visitor_note: string | null;
  /** vs the control's revenue per visitor in this currency; null on the control, or with too few visitors. */
  lift: LiftJson | null;
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
  /** Items shown. */
  impressions: number;
  clicks: number;
  /** clicks / impressions */
  ctr: number | null;
  ctr_ci: IntervalJson | null;
  converters: number;
  /** converting visitors / visitors */
  conversion_rate: number | null;
  conversion_rate_ci: IntervalJson | null;
  /** One entry per currency of the report, in its order. */
  revenue: RevenueJson[];
  /** vs the control; null on the control itself. */
  lift: { conversion_rate: LiftJson | null } | null;
}

export interface Report {
  experiment: { id: string; name: string | null; status: string; started_at: string | null; stopped_at: string | null; control: string };
  generated_at: string;
  attribution_window_days: number;
  confidence_level: number;
  method: string;
  /** Every currency any variant earned in (null: unknown), sorted, null last. */
  currencies: (string | null)[];
  variants: VariantReport[];
  /** The variants within each RFM segment (the users' segment at their first exposure; null: no profile then), when asked for. */
  segments?: { segment: string | null; variants: VariantReport[] }[];
  /** chi_square null: visitors in a variant of weight 0 (an impossible fit, p = 0). */
  srm: { chi_square: number | null; df: number; p_value: number; threshold: number; mismatch: boolean };
}

export const CONFIDENCE_LEVEL = 0.95;
const METHOD =
  'conversion rate and CTR: Wilson score intervals (CTR counts shown items as independent); revenue per visitor, per currency: ' +
  `BCa bootstrap (seeded, ${RESAMPLES} resamples); lifts` +
  ": Welch's t interval and p-value on the difference of per-visitor means, " +
  `relative lift with Fieller's interval at the same t quantile, given with at least ${MIN_NON_ZERO} converters (buyers) on each side; ` +
  'SRM: chi-square goodness of fit of visitors vs weights';

const empty = (variant: string): VariantTotals => ({ variant, visitors: 0, exposures: 0, impressions: 0, clicks: 0, converters: 0, revenue: [] });
const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
const sum = (values: readonly number[]) => values.reduce((s, x) => s + x, 0);

/** "GBP"; "an unknown currency" for items the catalog has no currency for. */
const currencyName = (currency: string | null) => currency ?? 'an unknown currency';

/** How the notes name a metric's non-zero values and its mean. */
interface Terms {
  /** "control has no …" */
  none: string;
  /** "too few …" */
  units: string;
  mean: string;
}

const CONVERSION: Terms = { none: 'conversions', units: 'converters', mean: 'conversion rate' };
const revenueTerms = (currency: string | null): Terms => {
  const inCurrency = `in ${currencyName(currency)}`;
  return { none: `purchases ${inCurrency}`, units: `buyers ${inCurrency}`, mean: `revenue per visitor ${inCurrency}` };
};

function relativeNote(status: RelativeStatus, terms: Terms, treatment: Sample, control: Sample): string | null {
  switch (status) {
    case 'ok':
      return null;
    case 'clamped':
      return `lower end cut at −100%: the treatment's ${terms.mean} is not distinguishable from 0`;
    case 'control-zero':
      return `not estimable: control has no ${terms.none}`;
    case 'too-few':
      return `not estimable: too few ${terms.units} (treatment ${treatment.nonZero}, control ${control.nonZero}; ${MIN_NON_ZERO} needed on each side)`;
    case 'unbounded':
      return `not estimable: the control's ${terms.mean} is not distinguishable from 0, so the interval is unbounded`;
  }
}

function liftJson(c: Comparison | null, terms: Terms, treatment: Sample, control: Sample): LiftJson | null {
  if (!c) return null;
  return {
    difference: c.difference,
    difference_ci: c.differenceCi,
    p_value: c.pValue,
    significant: c.pValue !== null && c.pValue < 1 - CONFIDENCE_LEVEL,
    relative: c.relative.estimate,
    relative_ci: c.relative.interval,
    relative_note: relativeNote(c.relative.status, terms, treatment, control),
  };
}

const compareWith = (treatment: Sample, control: Sample, terms: Terms) => liftJson(compare(treatment, control, CONFIDENCE_LEVEL), terms, treatment, control);

/** Revenue per visitor's interval (a seeded bootstrap), or why there is none. */
function revenueInterval(values: readonly number[], visitors: number, currency: string | null, seed: string): { ci: Interval | null; note: string | null } {
  if (visitors === 0) return { ci: null, note: null };
  if (values.length === 0) return { ci: null, note: `no interval: no purchases in ${currencyName(currency)}` };
  if (values.length < MIN_NON_ZERO) {
    return { ci: null, note: `no interval: only ${values.length} buyer${values.length === 1 ? '' : 's'} in ${currencyName(currency)}, ${MIN_NON_ZERO} needed` };
  }
  const ci = bcaMeanInterval(values, visitors, seed, CONFIDENCE_LEVEL);
  return ci ? { ci, note: null } : { ci: null, note: 'no interval: every visitor spent the same' };
}

/** The currencies of all variants: sorted, the unknown (null) last. */
export function currenciesOf(totals: readonly VariantTotals[]): (string | null)[] {
  const all = new Set(totals.flatMap((t) => t.revenue.map((r) => r.currency)));
  return [...all].sort((a, b) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0));
}

const valuesIn = (t: VariantTotals, currency: string | null): readonly number[] => t.revenue.find((r: CurrencyRevenue) => r.currency === currency)?.values ?? [];

/**
 * Per variant: its metrics and, for a treatment, the lifts vs the control of the same totals.
 * `seed` names the rows (the segment, when they are one) in the bootstrap's seeds.
 */
function variantReports(experiment: Experiment, totals: readonly VariantTotals[], currencies: readonly (string | null)[], seed: readonly unknown[]): VariantReport[] {
  const byKey = new Map(totals.map((t) => [t.variant, t]));
  const rows = experiment.variants.map((v) => ({ v, t: byKey.get(v.key) ?? empty(v.key) }));
  const control = controlOf(experiment);
  const base = rows.find((r) => r.v.key === control.key)!.t;
  const weightSum = experiment.variants.reduce((s, v) => s + v.weight, 0);
  const conversion = (t: VariantTotals) => proportionSample(t.converters, t.visitors);

  const revenue = (v: Variant, t: VariantTotals): RevenueJson[] =>
    currencies.map((currency) => {
      const values = valuesIn(t, currency);
      const total = sum(values);
      const { ci, note } = revenueInterval(values, t.visitors, currency, JSON.stringify([experiment.id, ...seed, v.key, currency]));
      const sample = sparseSample(values, t.visitors);
      const controlSample = sparseSample(valuesIn(base, currency), base.visitors);
      return {
        currency,
        revenue: total,
        buyers: values.length,
        revenue_per_visitor: ratio(total, t.visitors),
        revenue_per_visitor_ci: ci,
        revenue_per_visitor_note: note,
        lift: v.control ? null : compareWith(sample, controlSample, revenueTerms(currency)),
      };
    });

  return rows.map(({ v, t }) => ({
    key: v.key,
    strategy: v.strategy,
    params: v.params,
    control: v.control,
    expected_share: v.weight / weightSum,
    visitors: t.visitors,
    exposures: t.exposures,
    impressions: t.impressions,
    clicks: t.clicks,
    ctr: ratio(t.clicks, t.impressions),
    ctr_ci: wilsonInterval(t.clicks, t.impressions, CONFIDENCE_LEVEL),
    converters: t.converters,
    conversion_rate: ratio(t.converters, t.visitors),
    conversion_rate_ci: wilsonInterval(t.converters, t.visitors, CONFIDENCE_LEVEL),
    revenue: revenue(v, t),
    lift: v.control ? null : { conversion_rate: compareWith(conversion(t), conversion(base), CONVERSION) },
  }));
}

/** Segments in the RFM map's order, "no profile" (null) last. */
function segmentOrder(a: string | null, b: string | null): number {
  const rank = (s: string | null) => (s === null ? SEGMENTS.length : (SEGMENTS as readonly string[]).indexOf(s));
  return rank(a) - rank(b);
}

/**
 * `bySegment`: the totals per variant and segment (variantTotals' bySegment); the report then
 * has every variant's metrics and lifts within each segment too.
 */
export function buildReport(experiment: Experiment, totals: readonly VariantTotals[], attributionWindowDays: number, now = new Date(), bySegment?: readonly VariantTotals[]): Report {
  const control = controlOf(experiment);
  const currencies = currenciesOf(totals);
  const visitors = new Map(totals.map((t) => [t.variant, t.visitors]));
  const srm = sampleRatioMismatch(
    experiment.variants.map((v) => visitors.get(v.key) ?? 0),
    experiment.variants.map((v) => v.weight),
  );
  const segments =
    bySegment &&
    [...new Set(bySegment.map((t) => t.segment ?? null))].sort(segmentOrder).map((segment) => ({
      segment,
      variants: variantReports(
        experiment,
        bySegment.filter((t) => (t.segment ?? null) === segment),
        currencies,
        [segment],
      ),
    }));

  return {
    experiment: {
      id: experiment.id,
      name: experiment.name,
      status: experiment.status,
      control: control.key,
      started_at: experiment.startedAt?.toISOString() ?? null,
      stopped_at: experiment.stoppedAt?.toISOString() ?? null,
    },
    generated_at: now.toISOString(),
    attribution_window_days: attributionWindowDays,
    confidence_level: CONFIDENCE_LEVEL,
    method: METHOD,
    currencies,
    variants: variantReports(experiment, totals, currencies, []),
    ...(segments ? { segments } : {}),
    srm: { chi_square: Number.isFinite(srm.statistic) ? srm.statistic : null, df: srm.df, p_value: srm.pValue, threshold: SRM_P_VALUE, mismatch: srm.mismatch },
  };
}
