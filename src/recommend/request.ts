// A recommendation request as the API and the email blocks take it (the validated query
// parameters), turned into what recommend() asks for. Shared by every caller, so the routes and
// the email blocks read a query the same way.
import type { Config } from '../config.ts';
import { HttpError } from '../http/errors.ts';
import type { ItemFilter } from './filters.ts';
import type { RecOptions, RecRequest } from './recommend.ts';
import type { Field, Strategy } from './types.ts';
import { DAY_MS } from '../lib/time.ts';

export const MAX_LIMIT = 100;

export interface Query {
  user?: string;
  item?: string[];
  limit: number;
  exclude?: string[];
  exclude_purchased?: boolean;
  category?: string;
  in_stock?: boolean;
  min_price?: number;
  max_price?: number;
  brand_cap?: number;
  /** Catalog fields wanted; other names (id, score, source: always there) are ignored. */
  fields?: (Field | 'id' | 'score' | 'source')[];
  fallback: boolean;
}

/** Whether a strategy leaves out what the user bought unless told otherwise. */
export const EXCLUDES_PURCHASED: Readonly<Record<Strategy, boolean>> = {
  'recently-viewed': false,
  'same-brand': true,
  collaborative: true,
  popular: false,
  'buy-again': false,
  'for-you': false,
  reactivation: false,
};

export function filterOf(q: Query): ItemFilter {
  if (q.min_price !== undefined && q.max_price !== undefined && q.min_price > q.max_price) {
    throw new HttpError(400, 'invalid_request', 'max_price must not be below min_price', 'max_price');
  }
  return { category: q.category, inStock: q.in_stock, minPrice: q.min_price, maxPrice: q.max_price, brandCap: q.brand_cap };
}

/** Offline (the evaluation, the build's fits): buy-again's due-ness as of each user's last purchase, where their test begins. */
export function recOptions(config: Config): RecOptions {
  return { maxSeeds: config.serving.maxSeeds, recentlyViewedCap: config.recentlyViewedCap, eventWeights: config.eventWeights };
}

/**
 * Serving (the API, email blocks): buy-again's due-ness as of the start of the current UTC day.
 * Whole days, like the occasions it counts, and the same all day, so a block is too (an email's,
 * fetched for its HTML and text parts and again hours later).
 */
export function servingOptions(config: Config, clock: () => number = Date.now): RecOptions {
  return { ...recOptions(config), now: () => Math.floor(clock() / DAY_MS) * DAY_MS };
}

/** The request a validated query makes of `strategy`; 400 when the strategy has nothing to start from. */
export function recRequest(strategy: Strategy, q: Query): RecRequest {
  const items = q.item ?? [];
  if ((strategy === 'same-brand' || strategy === 'collaborative') && items.length === 0 && q.user === undefined) {
    throw new HttpError(400, 'invalid_request', 'give item (one or more) or user', 'item');
  }
  return {
    strategy,
    user: q.user,
    items,
    limit: q.limit,
    exclude: q.exclude ?? [],
    excludePurchased: q.exclude_purchased ?? EXCLUDES_PURCHASED[strategy],
    filter: filterOf(q),
    fallback: q.fallback,
  };
}

/** A query with an experiment variant's parameters applied: the variant's own settings win. */
export function withVariant<Q extends Query>(q: Q, params: Readonly<Partial<Query>>): Q {
  return { ...q, ...params };
}
