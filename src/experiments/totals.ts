// What an experiment report is computed from, per variant (read by src/store/pg/experiments.ts).

/** Revenue of one currency in one variant. */
export interface CurrencyRevenue {
  /** The purchased items' `products.currency`; null for items (or currencies) the catalog does not know. */
  currency: string | null;
  /** Per visitor who spent in this currency, their credited revenue, ascending; every other visitor spent 0. */
  values: number[];
}

/** Per variant: what the report is computed from (see src/experiments/report.ts). */
export interface VariantTotals {
  variant: string;
  /** Totals by segment (variantTotals' bySegment): the users' RFM segment at their first exposure; null: no profile then. */
  segment?: string | null;
  /** Distinct exposed users. */
  visitors: number;
  exposures: number;
  /** Items shown: the exposures' items, summed. */
  impressions: number;
  /** One per (request_id, item) however often its link was followed; one per event without a request_id. */
  clicks: number;
  /** Visitors with at least one credited purchase. */
  converters: number;
  /** Per currency (ordered by currency, null last); only currencies the variant earned in. */
  revenue: CurrencyRevenue[];
}
