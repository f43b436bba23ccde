// A customer's lifecycle profile as the API answers it (GET /v1/users/{id}/profile, and each
// row of an audience): flat fields an ESP template can use as they are, as a JSON object or a
// CSV line, the due items with their catalog fields and links.
import type { ProfileRecord } from '../lifecycle/profiles.ts';
import { isoDay } from '../lifecycle/purchase-days.ts';
import type { DueItem } from '../lifecycle/replenishment.ts';
import { segmentSlug } from '../lifecycle/segments.ts';
import { imageUrl, productUrl, type LinkTemplates } from '../recommend/links.ts';
import type { CatalogFields } from '../recommend/types.ts';
import { DAY_MS } from '../lib/time.ts';

export interface DueItemJson {
  id: string;
  title: string | null;
  url: string | null;
  image_url: string | null;
  price: number | null;
  currency: string | null;
  /** When the item's typical gap since it was last bought is over (YYYY-MM-DD). */
  due_date: string;
  due_in_days: number;
  typical_gap_days: number;
  times_bought: number;
  last_bought: string;
  probability: number | null;
}

/** What turns the stored record into the answer: the build's reference day, the catalog, the shop's link templates. */
export interface RowContext {
  asOf: string;
  catalog: ReadonlyMap<string, CatalogFields>;
  links: LinkTemplates;
}

/** Days since 1970 of a YYYY-MM-DD. */
const dayNumber = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;

function dueItemJson(d: DueItem, c: RowContext): DueItemJson {
  const item = c.catalog.get(d.item);
  return {
    id: d.item,
    title: item?.title ?? null,
    url: productUrl(item ?? { id: d.item, url: null }, c.links),
    image_url: imageUrl(item ?? { id: d.item, image_url: null }, c.links),
    price: item?.price ?? null,
    currency: item?.currency ?? null,
    // Due-ness is counted from the end of the reference day.
    due_date: isoDay(dayNumber(c.asOf) + 1 + Math.floor(d.due_in_days)),
    due_in_days: d.due_in_days,
    typical_gap_days: d.typical_gap_days,
    times_bought: d.times_bought,
    last_bought: new Date(d.last_bought).toISOString().slice(0, 10),
    probability: d.probability,
  };
}

/** The profile as a JSON object; `due`: the due items to carry (none when null). */
export function profileJson(r: ProfileRecord, due: readonly DueItem[] | null, c: RowContext): Record<string, unknown> {
  return {
    user_id: r.user_id,
    segment: r.segment,
    segment_slug: segmentSlug(r.segment),
    recency_score: r.recency_score,
    frequency_score: r.frequency_score,
    monetary_score: r.monetary_score,
    orders: r.orders,
    revenue: r.revenue,
    average_order_value: r.average_order_value,
    first_purchase: r.first_purchase,
    last_purchase: r.last_purchase,
    days_since_last_purchase: r.recency_days,
    mean_days_between_orders: r.mean_gap_days,
    median_days_between_orders: r.median_gap_days,
    expected_next_purchase: r.expected_next_purchase,
    p_alive: r.p_alive,
    churn_risk: r.p_alive === null ? null : Number((1 - r.p_alive).toFixed(6)),
    expected_purchases_30d: r.expected_purchases_30,
    expected_purchases_90d: r.expected_purchases_90,
    expected_spend: r.expected_spend,
    customer_value_365d: r.customer_value,
    ...(due === null ? {} : { due_items: due.map((d) => dueItemJson(d, c)) }),
  };
}

/** The columns of an audience's CSV: every flat field, and with due items their ids, titles and the soonest date. */
export function csvColumns(withDue: boolean): string[] {
  const flat = [
    'user_id',
    'segment',
    'segment_slug',
    'recency_score',
    'frequency_score',
    'monetary_score',
    'orders',
    'revenue',
    'average_order_value',
    'first_purchase',
    'last_purchase',
    'days_since_last_purchase',
    'mean_days_between_orders',
    'median_days_between_orders',
    'expected_next_purchase',
    'p_alive',
    'churn_risk',
    'expected_purchases_30d',
    'expected_purchases_90d',
    'expected_spend',
    'customer_value_365d',
  ];
  return withDue ? [...flat, 'due_items', 'due_item_titles', 'next_due_date'] : flat;
}

// A text cell that a spreadsheet would run as a formula (ids and titles come from the shop's data:
// "=HYPERLINK(…)", "+cmd|…", "-2+3"), unless it is a plain number.
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[-+]?\d+(\.\d+)?$/;

/**
 * RFC 4180: a field holding a comma, quote or line break is quoted, its quotes doubled. Text
 * that would start a formula gets a leading apostrophe (OWASP's CSV-injection advice), so
 * opening an export in a spreadsheet never runs it.
 */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** The profile JSON as a CSV line of `columns` (due items: ids separated by ";", titles by " | "). */
export function profileCsv(json: Record<string, unknown>, columns: readonly string[]): string {
  const due = json.due_items as DueItemJson[] | undefined;
  const extra: Record<string, unknown> =
    due === undefined
      ? {}
      : {
          due_items: due.map((d) => d.id).join(';'),
          due_item_titles: due.map((d) => d.title ?? d.id).join(' | '),
          next_due_date: due.length === 0 ? null : due.map((d) => d.due_date).sort()[0],
        };
  return csvLine(columns.map((c) => (c in extra ? extra[c] : json[c])));
}
