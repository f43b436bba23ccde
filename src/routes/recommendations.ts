// GET /v1/recommendations/{recently-viewed|same-brand|collaborative|popular}: Redis only on
// the hot path (src/store/rec-store.ts), the ranking in src/recommend. GET /v1/recommendations
// ?experiment=ID&user=U: the strategy of the user's variant, with an exposure recorded.
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import type { Config } from '../config.ts';
import { userInQuery } from '../auth/access.ts';
import { HttpError } from '../errors.ts';
import type { ExperimentCache } from '../experiments/cache.ts';
import type { Variant } from '../experiments/definition.ts';
import type { ExposureWriter } from '../experiments/exposure-writer.ts';
import { idSchema } from '../ids.ts';
import { BlockCache } from './block-cache.ts';
import { blockTail, fieldSet, FIELDS, type Field } from './block-json.ts';
import type { Metrics } from '../metrics.ts';
import type { ItemFilter } from '../recommend/filters.ts';
import { recommendWithin, type DegradableStore, type ServedResult } from '../recommend/degraded.ts';
import type { RecOptions, RecRequest } from '../recommend/recommend.ts';
import { SOURCES, STRATEGIES, type Strategy } from '../recommend/types.ts';

export interface RecommendationDeps extends AppDeps {
  store: DegradableStore;
  metrics: Metrics;
  experiments: ExperimentCache;
  exposures: ExposureWriter;
}

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
  fields?: Field[];
  fallback: boolean;
}

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
    type: 'array', items: { type: 'string', enum: FIELDS },
    description: `Catalog fields to return with each item (default all): ${FIELDS.join(', ')}; repeat or separate with commas`,
  },
  fallback: {
    type: 'boolean', default: true,
    description: 'Fill the block up to limit with the next strategies (collaborative → same-brand → category-popular → popular); false: only this strategy\'s items',
  },
} as const;

export const userParam = { ...id, description: 'User id: the block is built from their recent views and purchases' };
export const itemParam = { type: 'array', items: id, minItems: 1, maxItems: 50, description: 'Seed item id(s); repeat the parameter for several' };
export const experimentParam = { ...id, description: "Experiment id: the strategy and parameters of the user's variant are used, and an exposure is recorded" };
/** Whether a strategy leaves out what the user bought unless told otherwise. */
export const EXCLUDES_PURCHASED: Readonly<Record<Strategy, boolean>> = { 'recently-viewed': false, 'same-brand': true, collaborative: true, popular: false };
const excludePurchased = (strategy: Strategy) => ({
  type: 'boolean', default: EXCLUDES_PURCHASED[strategy], description: `Leave out items the user bought (default ${EXCLUDES_PURCHASED[strategy]})`,
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
    strategy: 'recently-viewed', summary: "The user's recently viewed items, newest first",
    description: 'Falls back to items related to those views, then popular ones, to fill the block.',
    params: { user: userParam, exclude_purchased: excludePurchased('recently-viewed') }, required: ['user'],
  },
  {
    strategy: 'same-brand', summary: 'Items of the same brand(s), by popularity',
    description: 'Brands of the given items, or of the user\'s recently viewed items when only user is given; the seed items are left out.',
    params: { item: itemParam, user: userParam, exclude_purchased: excludePurchased('same-brand') },
  },
  {
    strategy: 'collaborative', summary: 'Bought this, also bought (items) or personalised (user)',
    description: 'Sum of neighbour scores over the given items, or over the user\'s purchases and recent views (their purchases left out). Each item says `because`: the seed that contributed most.',
    params: { item: itemParam, user: userParam, exclude_purchased: excludePurchased('collaborative') },
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
export function splitCommaLists(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  const query = request.query as Record<string, string | string[] | undefined>;
  for (const name of COMMA_LISTS) {
    const value = query[name];
    if (value !== undefined) query[name] = ([] as string[]).concat(value).flatMap((v) => v.split(',')).filter(Boolean);
  }
  done();
}

export function filterOf(q: Query): ItemFilter {
  if (q.min_price !== undefined && q.max_price !== undefined && q.min_price > q.max_price) {
    throw new HttpError(400, 'invalid_request', 'max_price must not be below min_price', 'max_price');
  }
  return { category: q.category, inStock: q.in_stock, minPrice: q.min_price, maxPrice: q.max_price, brandCap: q.brand_cap };
}

export function recOptions(config: Config): RecOptions {
  return { maxSeeds: config.serving.maxSeeds, recentlyViewedCap: config.recentlyViewedCap, eventWeights: config.eventWeights };
}

/** The request a validated query makes of `strategy`; 400 when the strategy has nothing to start from. */
export function recRequest(strategy: Strategy, q: Query): RecRequest {
  const items = q.item ?? [];
  if ((strategy === 'same-brand' || strategy === 'collaborative') && items.length === 0 && q.user === undefined) {
    throw new HttpError(400, 'invalid_request', 'give item (one or more) or user', 'item');
  }
  return {
    strategy, user: q.user, items, limit: q.limit, exclude: q.exclude ?? [],
    excludePurchased: q.exclude_purchased ?? EXCLUDES_PURCHASED[strategy], filter: filterOf(q), fallback: q.fallback,
  };
}

/** A query with a variant's parameters applied: the variant's own settings win. */
export function withVariant<Q extends Query>(q: Q, variant: Variant): Q {
  return { ...q, ...variant.params };
}

const experimentQuery = {
  type: 'object', additionalProperties: false, required: ['experiment', 'user'],
  properties: { experiment: experimentParam, user: userParam, item: itemParam, exclude_purchased: { type: 'boolean', description: "Leave out items the user bought (default: the variant strategy's)" }, ...filterParams },
} as const;

export async function recommendationRoutes(app: FastifyInstance, deps: RecommendationDeps): Promise<void> {
  const { serving } = deps.config;
  const options = recOptions(deps.config);

  async function answer(strategy: Strategy, q: Query, log: FastifyBaseLogger): Promise<ServedResult> {
    const request = recRequest(strategy, q);
    const started = performance.now();
    let fromCache = false;
    const result = await recommendWithin(deps.store, request, options, serving.deadlineMs, (err) => {
      fromCache = true;
      deps.metrics.degraded(strategy);
      deps.outages.redis.down(err, log);
    });
    if (!fromCache) deps.outages.redis.up();
    deps.metrics.recommendation(strategy, result.sources, result.items.length, (performance.now() - started) / 1000);
    return result;
  }

  // A degraded block must not be kept by a browser, CDN or ESP past the outage.
  const cacheControl = (result: ServedResult, personal: string) => (result.degraded ? 'no-store' : personal);

  /**
   * A block's body, written here (src/routes/block-json.ts) in the fields and order of the
   * response schema; `extra` holds the optional fields that come before `sources`.
   */
  const json = (reply: FastifyReply, requestId: string, strategy: Strategy, version: number | null, extra: string, tail: string) => {
    void reply.type('application/json; charset=utf-8');
    return `{"request_id":${JSON.stringify(requestId)},"strategy":"${strategy}","model_version":${version},${extra}${tail}`;
  };
  const flags = (result: ServedResult) => (result.optedOut ? '"opted_out":true,' : '') + (result.degraded ? '"degraded":true,' : '');
  const body = (reply: FastifyReply, requestId: string, strategy: Strategy, result: ServedResult, fields: Query['fields'], extra = '') =>
    json(reply, requestId, strategy, result.model.version, flags(result) + extra, blockTail(result.sources, result.items, fieldSet(fields)));

  const blocks = new BlockCache(serving.blockCacheMaxEntries, serving.blockCacheMaxBytes);
  deps.metrics.watchBlockCache(() => blocks.stats());
  const publicCacheControl = `public, max-age=${serving.publicMaxAgeSeconds}`;

  /**
   * A block without a user is the same for every caller of one model version: served from the
   * block cache, its tail serialized once.
   */
  async function nonPersonal(strategy: Strategy, q: Query, request: FastifyRequest, reply: FastifyReply) {
    const key = `${strategy} ${JSON.stringify(q)}`;
    const started = performance.now();
    const live = await deps.store.model().then((m) => m.version, () => null);
    let block = live === null ? undefined : blocks.get(live, key);
    let version = live;
    if (block === undefined) {
      const result = await answer(strategy, q, request.log);
      if (result.degraded) {
        void reply.header('cache-control', 'no-store');
        return body(reply, request.id, strategy, result, q.fields);
      }
      block = { tail: blockTail(result.sources, result.items, fieldSet(q.fields)), sources: result.sources, items: result.items.length };
      version = result.model.version;
      if (version !== null) blocks.set(version, key, block);
    } else {
      deps.metrics.recommendation(strategy, block.sources, block.items, (performance.now() - started) / 1000);
    }
    void reply.header('cache-control', publicCacheControl);
    return json(reply, request.id, strategy, version, '', block.tail);
  }

  for (const spec of ROUTES) {
    app.get<{ Querystring: Query }>(`/v1/recommendations/${spec.strategy}`, {
      config: { access: 'read', personal: userInQuery },
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
      if (q.user === undefined) return nonPersonal(spec.strategy, q, request, reply);
      const result = await answer(spec.strategy, q, request.log);
      // A user's block is theirs alone and changes with their next view: private and short.
      void reply.header('cache-control', cacheControl(result, `private, max-age=${serving.privateMaxAgeSeconds}`));
      return body(reply, request.id, spec.strategy, result, q.fields);
    });
  }

  // The A/B harness: the user's deterministic variant picks the strategy and its parameters.
  app.get<{ Querystring: Query & { experiment: string; user: string } }>('/v1/recommendations', {
    config: { access: 'read', personal: userInQuery },
    preValidation: splitCommaLists,
    schema: {
      summary: "The block of the user's variant in an experiment (A/B test of strategies)",
      description: 'The variant comes from GrowthBook-compatible hashing of the experiment salt and user id (GET /v1/experiments/{id}/assignment tells it). Its strategy and parameters are used (they win over the same query parameters), and an exposure is recorded for request_id (batched, off the request path) while the experiment runs and the user is in its coverage.',
      tags: ['recommendations', 'experiments'],
      querystring: experimentQuery,
      response: { ...responseSchema, 404: { ...responseSchema[400], description: 'No such experiment' } },
    },
  }, async (request, reply) => {
    const q = request.query;
    const { experiment, assignment } = await deps.experiments.assign(q.experiment, q.user);
    const { variant } = assignment;
    const result = await answer(variant.strategy, withVariant(q, variant), request.log);
    if (assignment.inExperiment) {
      deps.exposures.record({
        experimentId: experiment.id, variant: variant.key, userId: q.user, requestId: request.id,
        strategy: variant.strategy, items: result.items.map((i) => i.id),
      });
    }
    void reply.header('cache-control', cacheControl(result, `private, max-age=${serving.privateMaxAgeSeconds}`));
    const about = `"experiment":${JSON.stringify(experiment.id)},"variant":${JSON.stringify(variant.key)},"in_experiment":${assignment.inExperiment},`;
    return body(reply, request.id, variant.strategy, result, q.fields, about);
  });
}
