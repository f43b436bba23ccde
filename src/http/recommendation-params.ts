// The query parameters and response shape of recommendation blocks, as JSON schemas: the
// recommendation routes and the email routes take the same parameters.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { idSchema } from '../ids.ts';
import { EXCLUDES_PURCHASED, MAX_LIMIT } from '../recommend/request.ts';
import { FIELDS, SOURCES, STRATEGIES, type Strategy } from '../recommend/types.ts';

/** Fields of every item, whatever `fields` says: naming them is allowed (a front-end lists what it reads). */
const ALWAYS_THERE = ['id', 'score', 'source'] as const;

export const id = idSchema;
const nullable = (type: string, description: string) => ({ type: [type, 'null'], description });

export const filterParams = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 10, description: `Number of items, 1..${MAX_LIMIT}` },
  exclude: { type: 'array', items: id, maxItems: 500, description: 'Item ids to leave out: repeat the parameter or separate ids with commas' },
  category: { ...id, description: 'Only items of this category' },
  in_stock: { type: 'boolean', description: 'true: only items in stock' },
  min_price: { type: 'number', minimum: 0, description: 'Only items priced at least this (items without a price are left out)' },
  max_price: { type: 'number', minimum: 0, description: 'Only items priced at most this (items without a price are left out)' },
  brand_cap: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: 'At most this many items per brand (diversity)' },
  fields: {
    type: 'array',
    items: { type: 'string', enum: [...ALWAYS_THERE, ...FIELDS] },
    description: `Catalog fields to return with each item (default all): ${FIELDS.join(', ')}; repeat or separate with commas. ${ALWAYS_THERE.join(', ')} may be named too: every item has them`,
  },
  fallback: {
    type: 'boolean',
    default: true,
    description: "Fill the block up to limit with the next strategies (collaborative → same-brand → category-popular → popular); false: only this strategy's items",
  },
} as const;

export const userParam = { ...id, description: 'User id: the block is built from their recent views and purchases' };
export const itemParam = { type: 'array', items: id, minItems: 1, maxItems: 50, description: 'Seed item id(s); repeat the parameter for several' };
export const experimentParam = { ...id, description: "Experiment id: the strategy and parameters of the user's variant are used, and an exposure is recorded" };
/** Whether a strategy leaves out what the user bought unless told otherwise. */
const excludePurchased = (strategy: Strategy) => ({
  type: 'boolean',
  default: EXCLUDES_PURCHASED[strategy],
  description: `Leave out items the user bought (default ${EXCLUDES_PURCHASED[strategy]})`,
});

/** buy-again's `repeat` of an item, in recommendations and email blocks alike (repeatFields). */
export const repeatSchema = {
  type: 'object',
  description: "buy-again: why this item is due again, from the user's own history",
  properties: {
    times_bought: { type: 'integer', description: 'Days (shopping occasions) on which the user bought it' },
    last_bought: { type: 'string', format: 'date-time' },
    typical_gap_days: { type: 'number', description: "The user's typical days between purchases of it (the item's, when bought once), to a tenth" },
    due_in_days: { type: 'number', description: 'typical_gap_days minus the days from the last purchase to the start of today (UTC), to a tenth: negative when overdue' },
  },
} as const;

const itemSchema = {
  type: 'object',
  required: ['id', 'score', 'source'],
  properties: {
    id: { type: 'string' },
    score: { type: 'number', minimum: 0, maximum: 1, description: 'How strongly the block picks the item, in [0, 1], never rising down the block (docs/api.md); the raw signal is in its own field' },
    source: { type: 'string', enum: SOURCES, description: 'The strategy that produced this item' },
    viewed_at: { type: 'string', format: 'date-time', description: 'recently-viewed: when the user viewed it' },
    similarity: { type: 'number', description: 'collaborative: Σ over the seeds of weight × similarity' },
    popularity: { type: 'number', description: 'popular, category-popular, same-brand: weighted distinct buyers' },
    probability: { type: 'number', description: 'buy-again: the probability of a re-buy soon' },
    blend_score: { type: 'number', description: "for-you: the blend's score" },
    because: { type: 'string', description: 'The seed item that led to this one (collaborative: the one that contributed most)' },
    repeat: repeatSchema,
    title: nullable('string', 'Catalog title'),
    brand: nullable('string', 'Brand'),
    category: nullable('string', 'Category'),
    price: nullable('number', 'Price'),
    currency: nullable('string', 'Currency of the price'),
    url: nullable('string', 'Product page'),
    image_url: nullable('string', 'Image'),
    in_stock: { type: 'boolean' },
  },
} as const;

export const responseSchema = {
  200: {
    type: 'object',
    description: 'A block of items, best first, all from one model version',
    required: ['request_id', 'strategy', 'model_version', 'sources', 'items'],
    properties: {
      request_id: { type: 'string', description: 'Echo it as request_id of later click/purchase events (attribution)' },
      strategy: { type: 'string', enum: STRATEGIES, description: 'The strategy requested' },
      model_version: { type: ['integer', 'null'], description: 'Model version every item came from (null before the first build)' },
      opted_out: { type: 'boolean', description: 'Present (true) when the user opted out of personalisation: the block ignores their history' },
      degraded: { type: 'boolean', description: "Present (true) when Redis was down or slow: a non-personal block from the service's in-process cache of the model (not cacheable)" },
      experiment: { type: 'string', description: 'With experiment=: the experiment' },
      variant: { type: 'string', description: "With experiment=: the user's variant (the control when the experiment is not running)" },
      in_experiment: { type: 'boolean', description: 'With experiment=: false when the user gets the control outside the experiment (not running, or outside its coverage): no exposure is recorded' },
      sources: { type: 'array', items: { type: 'string', enum: SOURCES }, description: 'Sources that produced items, in order' },
      items: { type: 'array', items: itemSchema },
    },
  },
  400: {
    type: 'object',
    description: 'A bad parameter',
    properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string', description: 'The parameter at fault' } },
  },
} as const;

export interface RouteSpec {
  strategy: Strategy;
  summary: string;
  description: string;
  params: Record<string, unknown>;
  required?: string[];
}

export const ROUTES: readonly RouteSpec[] = [
  {
    strategy: 'recently-viewed',
    summary: "The user's recently viewed items, newest first",
    description: 'Falls back to items related to those views, then popular ones, to fill the block.',
    params: { user: userParam, exclude_purchased: excludePurchased('recently-viewed') },
    required: ['user'],
  },
  {
    strategy: 'same-brand',
    summary: 'Items of the same brand(s), by popularity',
    description: "Brands of the given items, or of the user's recently viewed items when only user is given; the seed items are left out.",
    params: { item: itemParam, user: userParam, exclude_purchased: excludePurchased('same-brand') },
  },
  {
    strategy: 'collaborative',
    summary: 'Bought this, also bought (items) or personalised (user)',
    description: "Sum of neighbour scores over the given items, or over the user's purchases and recent views (their purchases left out). Each item says `because`: the seed that contributed most.",
    params: { item: itemParam, user: userParam, exclude_purchased: excludePurchased('collaborative') },
  },
  {
    strategy: 'popular',
    summary: 'The most popular items, overall or in a category',
    description: 'Popularity = weighted count of distinct buyers, from the latest build.',
    params: {},
  },
  {
    strategy: 'buy-again',
    summary: "The user's own purchases most likely to be bought again soon",
    description:
      "Ranked by a model the build fits on the shop's data: how often and how recently the user bought each item, how often anyone re-buys it, and its typical gap (an item that is due ranks above one bought yesterday; items nobody re-buys are left out). Each item says `repeat`: times bought, last bought, typical gap, due in. Falls back to popular items.",
    params: { user: userParam, exclude_purchased: excludePurchased('buy-again') },
    required: ['user'],
  },
  {
    strategy: 'for-you',
    summary: 'A blend of every strategy, with weights learned for this shop',
    description:
      "The candidates of buy-again, the user's collaborative block, recent views, their brands and popular items, combined with weights the build fits on a validation split of the shop's own history (GET /v1/models/current shows them). Each item names the generator that weighed most in its `source`.",
    params: { user: userParam, exclude_purchased: excludePurchased('for-you') },
    required: ['user'],
  },
  {
    strategy: 'reactivation',
    summary: 'Win-back: what the user recently viewed, and products like those',
    description:
      "The user's recently viewed items, then the collaborative neighbours of those views (each says `because`: the viewed item it goes with); filled with what they are due to buy again, then popular items. fallback=false keeps the first two. For reactivation mails (docs/lifecycle.md).",
    params: { user: userParam, exclude_purchased: excludePurchased('reactivation') },
    required: ['user'],
  },
];

// Comma lists are split before validation, so each element is checked (and named) on its own.
// A callback hook, not an async one: it runs on every request.
const COMMA_LISTS = ['exclude', 'fields'] as const;
export function splitCommaLists(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  const query = request.query as Record<string, string | string[] | undefined>;
  for (const name of COMMA_LISTS) {
    const value = query[name];
    if (value !== undefined)
      query[name] = ([] as string[])
        .concat(value)
        .flatMap((v) => v.split(','))
        .filter(Boolean);
  }
  done();
}

export const experimentQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['experiment', 'user'],
  properties: {
    experiment: experimentParam,
    user: userParam,
    item: itemParam,
    exclude_purchased: { type: 'boolean', description: "Leave out items the user bought (default: the variant strategy's)" },
    exposure: {
      type: 'string',
      enum: ['fetch', 'impression'],
      default: 'fetch',
      description:
        "When the exposure is recorded: fetch (now), or impression: when the block is seen, i.e. when POST /v1/widget/events reports an impression of (or a click on) this request_id for this user_id (the widget's way: it fetches blocks before they are in view). A block never seen counts no exposure.",
    },
    ...filterParams,
  },
} as const;
