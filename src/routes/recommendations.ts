// GET /v1/recommendations/{recently-viewed|same-brand|collaborative|popular}: Redis only on
// the hot path (src/store/rec-store.ts), the ranking in src/recommend.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import { HttpError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { ItemFilter, Picked } from '../recommend/filters.ts';
import { recommend, type RecOptions } from '../recommend/recommend.ts';
import { SOURCES, STRATEGIES, type RecStore, type Strategy } from '../recommend/types.ts';

export interface RecommendationDeps extends AppDeps {
  store: RecStore;
  metrics: Metrics;
}

export const MAX_LIMIT = 100;
const FIELDS = ['title', 'brand', 'category', 'price', 'currency', 'url', 'image_url', 'in_stock'] as const;
type Field = (typeof FIELDS)[number];

interface Query {
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
  fields?: Field[];
  fallback: boolean;
}

const id = { type: 'string', minLength: 1, maxLength: 256 } as const;
const nullable = (type: string, description: string) => ({ type: [type, 'null'], description });

const filterParams = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 10, description: `Number of items, 1..${MAX_LIMIT}` },
  exclude: { type: 'array', items: id, maxItems: 500, description: 'Item ids to leave out: repeat the parameter or separate ids with commas' },
  category: { ...id, description: 'Only items of this category' },
  in_stock: { type: 'boolean', description: 'true: only items in stock' },
  min_price: { type: 'number', minimum: 0, description: 'Only items priced at least this (items without a price are left out)' },
  max_price: { type: 'number', minimum: 0, description: 'Only items priced at most this (items without a price are left out)' },
  brand_cap: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: 'At most this many items per brand (diversity)' },
  fields: {
    type: 'array', items: { type: 'string', enum: FIELDS },
    description: `Catalog fields to return with each item (default all): ${FIELDS.join(', ')}; repeat or separate with commas`,
  },
  fallback: {
    type: 'boolean', default: true,
    description: 'Fill the block up to limit with the next strategies (collaborative → same-brand → category-popular → popular); false: only this strategy\'s items',
  },
} as const;

const userParam = { ...id, description: 'User id: the block is built from their recent views and purchases' };
const itemParam = { type: 'array', items: id, minItems: 1, maxItems: 50, description: 'Seed item id(s); repeat the parameter for several' };
const excludePurchased = (byDefault: boolean) => ({
  type: 'boolean', default: byDefault, description: `Leave out items the user bought (default ${byDefault})`,
});

const itemSchema = {
  type: 'object',
  required: ['id', 'score', 'source'],
  properties: {
    id: { type: 'string' },
    score: { type: 'number', description: 'Rank score within its source (recently-viewed: view time in Unix ms)' },
    source: { type: 'string', enum: SOURCES, description: 'The strategy that produced this item' },
    because: { type: 'string', description: 'The seed item that led to this one (collaborative: the one that contributed most)' },
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

const responseSchema = {
  200: {
    type: 'object',
    description: 'A block of items, best first, all from one model version',
    required: ['request_id', 'strategy', 'model_version', 'sources', 'items'],
    properties: {
      request_id: { type: 'string', description: 'Echo it as request_id of later click/purchase events (attribution)' },
      strategy: { type: 'string', enum: STRATEGIES, description: 'The strategy requested' },
      model_version: { type: ['integer', 'null'], description: 'Model version every item came from (null before the first build)' },
      sources: { type: 'array', items: { type: 'string', enum: SOURCES }, description: 'Sources that produced items, in order' },
      opted_out: { type: 'boolean', description: 'Present (true) when the user opted out of personalisation: the block ignores their history' },
      items: { type: 'array', items: itemSchema },
    },
  },
  400: {
    type: 'object',
    description: 'A bad parameter',
    properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string', description: 'The parameter at fault' } },
  },
} as const;

interface RouteSpec {
  strategy: Strategy;
  summary: string;
  description: string;
  params: Record<string, unknown>;
  required?: string[];
}

const ROUTES: RouteSpec[] = [
  {
    strategy: 'recently-viewed', summary: "The user's recently viewed items, newest first",
    description: 'Falls back to items related to those views, then popular ones, to fill the block.',
    params: { user: userParam, exclude_purchased: excludePurchased(false) }, required: ['user'],
  },
  {
    strategy: 'same-brand', summary: 'Items of the same brand(s), by popularity',
    description: 'Brands of the given items, or of the user\'s recently viewed items when only user is given; the seed items are left out.',
    params: { item: itemParam, user: userParam, exclude_purchased: excludePurchased(true) },
  },
  {
    strategy: 'collaborative', summary: 'Bought this, also bought (items) or personalised (user)',
    description: 'Sum of neighbour scores over the given items, or over the user\'s purchases and recent views (their purchases left out). Each item says `because`: the seed that contributed most.',
    params: { item: itemParam, user: userParam, exclude_purchased: excludePurchased(true) },
  },
  {
    strategy: 'popular', summary: 'The most popular items, overall or in a category',
    description: 'Popularity = weighted count of distinct buyers, from the latest build.',
    params: {},
  },
];

// Comma lists are split before validation, so each element is checked (and named) on its own.
// A callback hook, not an async one: it runs on every request.
const COMMA_LISTS = ['exclude', 'fields'] as const;
function splitCommaLists(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  const query = request.query as Record<string, string | string[] | undefined>;
  for (const name of COMMA_LISTS) {
    const value = query[name];
    if (value !== undefined) query[name] = ([] as string[]).concat(value).flatMap((v) => v.split(',')).filter(Boolean);
  }
  done();
}

function filterOf(q: Query): ItemFilter {
  if (q.min_price !== undefined && q.max_price !== undefined && q.min_price > q.max_price) {
    throw new HttpError(400, 'invalid_request', 'max_price must not be below min_price', 'max_price');
  }
  return { category: q.category, inStock: q.in_stock, minPrice: q.min_price, maxPrice: q.max_price, brandCap: q.brand_cap };
}

type FieldSet = Readonly<Record<Field, boolean>>;
const ALL_FIELDS: FieldSet = Object.fromEntries(FIELDS.map((f) => [f, true])) as Record<Field, boolean>;

function fieldSet(fields: readonly Field[] | undefined): FieldSet {
  if (fields === undefined) return ALL_FIELDS;
  const wanted = new Set(fields);
  return Object.fromEntries(FIELDS.map((f) => [f, wanted.has(f)])) as Record<Field, boolean>;
}

/** One response item. Always the same shape (undefined = not sent), which keeps serialisation fast. */
function render(item: Picked, want: FieldSet) {
  const f = item.fields;
  return {
    id: item.id, score: item.score, source: item.source, because: item.because,
    title: want.title ? f.title : undefined, brand: want.brand ? f.brand : undefined,
    category: want.category ? f.category : undefined, price: want.price ? f.price : undefined,
    currency: want.currency ? f.currency : undefined, url: want.url ? f.url : undefined,
    image_url: want.image_url ? f.image_url : undefined, in_stock: want.in_stock ? f.in_stock : undefined,
  };
}

export async function recommendationRoutes(app: FastifyInstance, deps: RecommendationDeps): Promise<void> {
  const { serving } = deps.config;
  const options: RecOptions = { maxSeeds: serving.maxSeeds, recentlyViewedCap: deps.config.recentlyViewedCap, eventWeights: deps.config.eventWeights };

  for (const spec of ROUTES) {
    const needsSeeds = spec.strategy === 'same-brand' || spec.strategy === 'collaborative';
    app.get<{ Querystring: Query }>(`/v1/recommendations/${spec.strategy}`, {
      preValidation: splitCommaLists,
      schema: {
        summary: spec.summary,
        description: spec.description,
        tags: ['recommendations'],
        querystring: { type: 'object', additionalProperties: false, required: spec.required ?? [], properties: { ...spec.params, ...filterParams } },
        response: responseSchema,
      },
    }, async (request, reply) => {
      const q = request.query;
      const items = q.item ?? [];
      if (needsSeeds && items.length === 0 && q.user === undefined) {
        throw new HttpError(400, 'invalid_request', 'give item (one or more) or user', 'item');
      }
      const filter = filterOf(q);
      const started = performance.now();
      const result = await recommend(deps.store, {
        strategy: spec.strategy, user: q.user, items, limit: q.limit, exclude: q.exclude ?? [],
        excludePurchased: q.exclude_purchased ?? false, filter, fallback: q.fallback,
      }, options);
      deps.metrics.recommendation(spec.strategy, result.sources, result.items.length, (performance.now() - started) / 1000);
      // A user's block is theirs alone and changes with their next view: private and short.
      void reply.header('cache-control', q.user === undefined
        ? `public, max-age=${serving.publicMaxAgeSeconds}`
        : `private, max-age=${serving.privateMaxAgeSeconds}`);
      const want = fieldSet(q.fields);
      return {
        request_id: request.id, strategy: spec.strategy, model_version: result.model.version,
        sources: result.sources, opted_out: result.optedOut || undefined, items: result.items.map((item) => render(item, want)),
      };
    });
  }
}
