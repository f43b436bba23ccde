// /v1/experiments: define, start and stop A/B tests of recommendation strategies, look up a
// user's variant, and read the report (JSON or a server-rendered page).
import { userInQuery } from '../auth/access.ts';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { HttpError } from '../http/errors.ts';
import { audienceFrom, audienceJson, audienceSchema, type AudienceInput } from '../http/audience-params.ts';
import { assign } from '../experiments/assignment.ts';
import type { ExperimentCache } from '../experiments/cache.ts';
import type { AudienceName } from '../lifecycle/audiences.ts';
import { checkDefinition, DEFAULT_HASH_VERSION, STRATEGIES, transition, type Action, type Experiment, type HashVersion, type VariantInput } from '../experiments/definition.ts';
import { buildReport, type Report } from '../experiments/report.ts';
import { renderReportHtml } from '../experiments/report-html.ts';
import { idSchema, TEXT_PATTERN } from '../ids.ts';
import { findExperiment, insertExperiment, listExperiments, updateStatus, variantTotals } from '../store/pg/experiments.ts';
import { SECONDS_PER_DAY } from '../lib/time.ts';

export interface ExperimentRouteOptions extends Pick<AppDeps, 'pool'> {
  /** Clicks and purchases without a request_id count this long after a user's first exposure. */
  attributionWindowDays?: number;
  /**
   * The API's assignment (identities and audiences read from Redis, docs/identity.md); without it,
   * the hash of the id given, and nobody is in an audience.
   */
  experiments?: Pick<ExperimentCache, 'assignTo'>;
}

export const DEFAULT_ATTRIBUTION_WINDOW_DAYS = 7;
const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';
const id = { type: 'string', pattern: ID_PATTERN, description: 'Letters, digits and _ . : -, up to 128' } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;

const paramsSchema = {
  type: 'object',
  additionalProperties: false,
  description: "The strategy's parameters: the recommendation endpoints' query parameters of the same name",
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100 },
    brand_cap: { type: 'integer', minimum: 1, maximum: 100 },
    exclude_purchased: { type: 'boolean' },
    in_stock: { type: 'boolean' },
    category: idSchema,
    fallback: { type: 'boolean' },
  },
} as const;

const variantSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'strategy'],
  properties: {
    key: { ...id, description: 'Unique within the experiment' },
    weight: {
      type: 'number',
      minimum: 0,
      description: "Share of traffic: the variants' weights sum to 1 (within 0.01, as GrowthBook's SDKs need), e.g. 0.25, 0.25, 0.5. Left out on every variant: an equal split",
    },
    strategy: { type: 'string', enum: STRATEGIES },
    params: { ...paramsSchema, default: {} },
    control: { type: 'boolean', default: false, description: 'Exactly one variant is the control' },
  },
} as const;

const experimentSchema = {
  type: 'object',
  required: ['id', 'name', 'salt', 'hash_version', 'coverage', 'status', 'variants', 'audience', 'created_at', 'started_at', 'stopped_at'],
  properties: {
    id: { type: 'string' },
    name: nullableString,
    salt: { type: 'string' },
    hash_version: { type: 'integer', enum: [1, 2] },
    coverage: { type: 'number' },
    status: { type: 'string', enum: ['draft', 'running', 'stopped'] },
    variants: { type: 'array', items: { ...variantSchema, required: ['key', 'weight', 'strategy', 'params', 'control'] } },
    audience: audienceSchema,
    created_at: { type: 'string', format: 'date-time' },
    started_at: { ...nullableString, format: 'date-time' },
    stopped_at: { ...nullableString, format: 'date-time' },
  },
} as const;

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string', description: 'The field at fault' } },
} as const;
const ERROR_DESCRIPTIONS: Record<number, string> = { 400: 'A bad field', 404: 'No such experiment', 409: 'Id taken, or not in a status this action applies to' };
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { ...errorSchema, description: ERROR_DESCRIPTIONS[c] }]));

const intervalSchema = { type: 'object', required: ['low', 'high'], properties: { low: { type: 'number' }, high: { type: 'number' } } } as const;
const nullableInterval = (description: string) => ({ ...intervalSchema, type: ['object', 'null'], description }) as const;
const liftSchema = {
  type: ['object', 'null'],
  description: 'Treatment vs control; null with fewer than 2 visitors on a side or no variation at all',
  properties: {
    difference: { type: 'number', description: 'Treatment − control' },
    difference_ci: nullableInterval("Welch's 95% interval of the difference; null with too few converters (buyers) to test: see relative_note"),
    p_value: { ...nullableNumber, description: "Two-sided p-value of Welch's t test; null as difference_ci" },
    significant: { type: 'boolean', description: 'p < 0.05: the interval excludes 0' },
    relative: { ...nullableNumber, description: 'Treatment / control − 1; null when not estimable (relative_note says why)' },
    relative_ci: nullableInterval("Fieller's 95% interval of the relative lift; null when not estimable"),
    relative_note: { ...nullableString, description: 'Why the relative lift is not estimable (control has none, too few converters, interval unbounded), or why its low end was cut at −100%' },
  },
} as const;

const revenueSchema = {
  type: 'object',
  properties: {
    currency: { ...nullableString, description: "The purchased items' catalog currency; null: unknown" },
    revenue: { type: 'number', description: 'Credited purchase revenue in this currency (quantity × price)' },
    buyers: { type: 'integer', description: 'Visitors who spent in this currency' },
    revenue_per_visitor: nullableNumber,
    revenue_per_visitor_ci: nullableInterval('95% BCa bootstrap interval'),
    revenue_per_visitor_note: { ...nullableString, description: 'Why there is no interval' },
    lift: { ...liftSchema, description: "vs the control's revenue per visitor in this currency; null on the control" },
  },
} as const;

const variantReportSchema = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    strategy: { type: 'string' },
    params: paramsSchema,
    control: { type: 'boolean' },
    expected_share: { type: 'number', description: 'Share of visitors the weights call for' },
    visitors: { type: 'integer', description: 'Distinct exposed users' },
    exposures: { type: 'integer', description: 'Recommendation blocks shown (one per request_id)' },
    impressions: { type: 'integer', description: 'Items shown in those blocks' },
    clicks: { type: 'integer', description: 'Credited clicks: one per request_id and item, however often a link is followed' },
    ctr: { ...nullableNumber, description: 'clicks / impressions' },
    ctr_ci: nullableInterval('95% Wilson interval'),
    converters: { type: 'integer', description: 'Visitors with a credited purchase' },
    conversion_rate: { ...nullableNumber, description: 'converters / visitors' },
    conversion_rate_ci: nullableInterval('95% Wilson interval'),
    revenue: { type: 'array', items: revenueSchema, description: 'Per currency: amounts in different currencies are never added up' },
    lift: {
      type: ['object', 'null'],
      description: 'null on the control',
      properties: { conversion_rate: liftSchema },
    },
  },
} as const;

const reportSchema = {
  type: 'object',
  properties: {
    experiment: {
      type: 'object',
      properties: { id: { type: 'string' }, name: nullableString, status: { type: 'string' }, control: { type: 'string' }, started_at: nullableString, stopped_at: nullableString },
    },
    generated_at: { type: 'string' },
    attribution_window_days: { type: 'number' },
    confidence_level: { type: 'number' },
    method: { type: 'string' },
    currencies: { type: 'array', items: nullableString, description: 'Every currency earned in (null: unknown), sorted; each variant has a revenue entry per currency, in this order' },
    variants: { type: 'array', items: variantReportSchema },
    segments: {
      type: 'array',
      description:
        "The variants within each RFM segment: a user's segment is the one the lifecycle build gave them last before their first exposure (null: no profile then: no purchase yet, or opted out)",
      items: { type: 'object', properties: { segment: nullableString, variants: { type: 'array', items: variantReportSchema } } },
    },
    srm: {
      type: 'object',
      description: 'Sample ratio mismatch: chi-square goodness of fit of visitors vs weights',
      properties: {
        chi_square: nullableNumber,
        df: { type: 'integer' },
        p_value: { type: 'number' },
        threshold: { type: 'number' },
        mismatch: { type: 'boolean', description: 'p < threshold: do not trust the lifts' },
      },
    },
  },
} as const;

interface CreateBody {
  id: string;
  name?: string;
  salt?: string;
  hash_version: HashVersion;
  coverage: number;
  variants: VariantInput[];
  audience?: (AudienceInput & { name: AudienceName }) | null;
}

type IdParams = { Params: { id: string } };
// Lookups take the ids creation does: one that cannot exist is a 400, and never reaches PostgreSQL (a NUL would fail there).
const idParams = { type: 'object', required: ['id'], properties: { id } } as const;

function toJson(e: Experiment) {
  return {
    id: e.id,
    name: e.name,
    salt: e.salt,
    hash_version: e.hashVersion,
    coverage: e.coverage,
    status: e.status,
    variants: e.variants,
    audience: e.audience ? audienceJson(e.audience) : null,
    created_at: e.createdAt.toISOString(),
    started_at: e.startedAt?.toISOString() ?? null,
    stopped_at: e.stoppedAt?.toISOString() ?? null,
  };
}

// Defining, starting and reading experiments is the shop's back office: write scope.
const ADMIN = { access: 'write', personal: 'none' } as const;

export async function experimentRoutes(app: FastifyInstance, deps: ExperimentRouteOptions): Promise<void> {
  const { pool } = deps;
  const windowDays = deps.attributionWindowDays ?? DEFAULT_ATTRIBUTION_WINDOW_DAYS;

  async function load(tenant: string, experimentId: string): Promise<Experiment> {
    const experiment = await findExperiment(pool, tenant, experimentId);
    if (!experiment) throw new HttpError(404, 'not_found', `no experiment "${experimentId}"`, 'id');
    return experiment;
  }

  async function report(tenant: string, experimentId: string): Promise<Report> {
    const experiment = await load(tenant, experimentId);
    const [totals, bySegment] = await Promise.all([false, true].map((segments) => variantTotals(pool, tenant, experiment.id, windowDays * SECONDS_PER_DAY, segments)));
    return buildReport(experiment, totals, windowDays, new Date(), bySegment);
  }

  app.post<{ Body: CreateBody }>(
    '/v1/experiments',
    {
      config: ADMIN,
      schema: {
        summary: 'Define an experiment (created as a draft)',
        tags: ['experiments'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'variants'],
          properties: {
            id,
            name: { type: 'string', minLength: 1, maxLength: 200, pattern: TEXT_PATTERN, description: 'Shown in the report' },
            salt: { type: 'string', minLength: 1, maxLength: 256, pattern: TEXT_PATTERN, description: 'Hash seed (default: the id, as GrowthBook seeds with the experiment key)' },
            hash_version: { type: 'integer', enum: [1, 2], default: DEFAULT_HASH_VERSION, description: "GrowthBook's hash version for bucketing: 2 (default) or 1, the SDKs' original" },
            coverage: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1, description: 'Share of users in the experiment' },
            variants: { type: 'array', minItems: 2, maxItems: 20, items: variantSchema },
            audience: audienceSchema,
          },
        },
        response: { 201: experimentSchema, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const variants = checkDefinition(b.variants);
      const { name: audienceName, ...params } = b.audience ?? {};
      const audience = audienceName ? audienceFrom(audienceName, params, 'audience.') : null;
      const created = await insertExperiment(pool, request.tenant, { id: b.id, name: b.name ?? null, salt: b.salt ?? b.id, hashVersion: b.hash_version, coverage: b.coverage, variants, audience });
      if (!created) throw new HttpError(409, 'conflict', `experiment "${b.id}" already exists`, 'id');
      return reply.code(201).send(toJson(created));
    },
  );

  app.get(
    '/v1/experiments',
    {
      config: ADMIN,
      schema: {
        summary: 'All experiments, newest first',
        tags: ['experiments'],
        response: { 200: { type: 'object', properties: { experiments: { type: 'array', items: experimentSchema } } } },
      },
    },
    async (request) => ({ experiments: (await listExperiments(pool, request.tenant)).map(toJson) }),
  );

  app.get<IdParams>(
    '/v1/experiments/:id',
    {
      config: ADMIN,
      schema: { summary: 'One experiment', tags: ['experiments'], params: idParams, response: { 200: experimentSchema, ...errors(404) } },
    },
    async (request) => toJson(await load(request.tenant, request.params.id)),
  );

  for (const action of ['start', 'stop'] as const satisfies readonly Action[]) {
    app.post<IdParams>(
      `/v1/experiments/:id/${action}`,
      {
        config: ADMIN,
        schema: {
          summary: action === 'start' ? 'Start a draft experiment: users get their variants from now on' : 'Stop a running experiment: everyone gets the control again',
          tags: ['experiments'],
          params: idParams,
          response: { 200: experimentSchema, ...errors(404, 409) },
        },
      },
      async (request) => {
        const experiment = await load(request.tenant, request.params.id);
        const next = transition(experiment.status, action);
        const updated = await updateStatus(pool, request.tenant, experiment.id, experiment.status, next);
        if (!updated) throw new HttpError(409, 'invalid_transition', `experiment "${experiment.id}" changed status meanwhile`, 'status');
        return toJson(updated);
      },
    );
  }

  app.get<IdParams & { Querystring: { user: string } }>(
    '/v1/experiments/:id/assignment',
    {
      // Which variant a user is in is about that user.
      config: { access: 'write', personal: userInQuery },
      schema: {
        summary: "A user's variant (deterministic: GrowthBook's hash, of the experiment's version, of salt + user id)",
        description:
          'The recommendation endpoints use the same assignment. Outside the coverage or the audience, or when the experiment is not running, the user gets the control and in_experiment is false (no exposure is recorded for them).',
        tags: ['experiments'],
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, required: ['user'], properties: { user: { type: 'string', minLength: 1, maxLength: 256 } } },
        response: {
          200: {
            type: 'object',
            required: ['experiment', 'user', 'in_experiment', 'bucket', 'variant'],
            properties: {
              experiment: { type: 'string' },
              user: { type: 'string' },
              in_experiment: { type: 'boolean' },
              bucket: { type: 'number', description: "The user's hash bucket in [0, 1)" },
              variant: experimentSchema.properties.variants.items,
            },
          },
          ...errors(400, 404),
        },
      },
    },
    async (request) => {
      const experiment = await load(request.tenant, request.params.id);
      const { user } = request.query;
      const a = deps.experiments ? await deps.experiments.assignTo(request.tenant, experiment, user) : assign(experiment, user, !experiment.audience);
      return { experiment: experiment.id, user: request.query.user, in_experiment: a.inExperiment, bucket: a.bucket, variant: a.variant };
    },
  );

  app.get<IdParams>(
    '/v1/experiments/:id/report',
    {
      config: ADMIN,
      schema: {
        summary: 'Per variant: visitors, exposures, clicks, CTR, conversion, revenue per visitor per currency, lift vs control with 95% intervals, and a sample-ratio check',
        tags: ['experiments'],
        params: idParams,
        response: { 200: reportSchema, ...errors(404) },
      },
    },
    async (request) => report(request.tenant, request.params.id),
  );

  app.get<IdParams>(
    '/v1/experiments/:id/report.html',
    {
      config: ADMIN,
      schema: {
        summary: 'The report as a page for people: verdicts, bar charts with confidence whiskers, every number',
        tags: ['experiments'],
        params: idParams,
        produces: ['text/html'],
        response: { 200: { type: 'string', description: 'text/html' }, ...errors(404) },
      },
    },
    async (request, reply) => reply.type('text/html; charset=utf-8').send(renderReportHtml(await report(request.tenant, request.params.id))),
  );
}
