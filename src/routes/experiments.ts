// /v1/experiments: define, start and stop A/B tests of recommendation strategies, look up a
// user's variant, and read the report (JSON or a server-rendered page).
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { HttpError } from '../errors.ts';
import { assign } from '../experiments/assignment.ts';
import { checkDefinition, STRATEGIES, transition, type Action, type Experiment, type Variant } from '../experiments/definition.ts';
import { buildReport, type Report } from '../experiments/report.ts';
import { renderReportHtml } from '../experiments/report-html.ts';
import { idSchema, TEXT_PATTERN } from '../ids.ts';
import { findExperiment, insertExperiment, listExperiments, updateStatus, variantTotals } from '../store/experiments.ts';

export interface ExperimentRouteOptions extends Pick<AppDeps, 'pool'> {
  /** Clicks and purchases without a request_id count this long after a user's first exposure. */
  attributionWindowDays?: number;
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
    weight: { type: 'number', minimum: 0, maximum: 1e6, default: 1, description: 'Relative share of traffic (any scale: 1:1:2, 0.25/0.25/0.5)' },
    strategy: { type: 'string', enum: STRATEGIES },
    params: { ...paramsSchema, default: {} },
    control: { type: 'boolean', default: false, description: 'Exactly one variant is the control' },
  },
} as const;

const experimentSchema = {
  type: 'object',
  required: ['id', 'name', 'salt', 'coverage', 'status', 'variants', 'created_at', 'started_at', 'stopped_at'],
  properties: {
    id: { type: 'string' },
    name: nullableString,
    salt: { type: 'string' },
    coverage: { type: 'number' },
    status: { type: 'string', enum: ['draft', 'running', 'stopped'] },
    variants: { type: 'array', items: { ...variantSchema, required: ['key', 'weight', 'strategy', 'params', 'control'] } },
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
const liftSchema = {
  type: ['object', 'null'],
  description: 'Treatment vs control; null with fewer than 2 visitors on a side or no variation at all',
  properties: {
    difference: { type: 'number', description: 'Treatment − control' },
    difference_ci: { ...intervalSchema, description: "Welch's 95% interval of the difference" },
    relative: { ...nullableNumber, description: 'Treatment / control − 1 (null when the control is 0)' },
    relative_ci: {
      type: 'object', description: "Fieller's 95% interval of the relative lift; a null end is unbounded",
      properties: { low: nullableNumber, high: nullableNumber },
    },
    p_value: { type: 'number', description: "Two-sided p-value of Welch's t test" },
    significant: { type: 'boolean', description: 'p < 0.05: the interval excludes 0' },
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
    variants: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          key: { type: 'string' },
          strategy: { type: 'string' },
          params: paramsSchema,
          control: { type: 'boolean' },
          expected_share: { type: 'number', description: 'Share of visitors the weights call for' },
          visitors: { type: 'integer', description: 'Distinct exposed users' },
          exposures: { type: 'integer', description: 'Recommendation blocks shown (one per request_id)' },
          clicks: { type: 'integer', description: 'Credited clicks' },
          ctr: { ...nullableNumber, description: 'clicks / exposures' },
          converters: { type: 'integer', description: 'Visitors with a credited purchase' },
          conversion_rate: { ...nullableNumber, description: 'converters / visitors' },
          conversion_rate_ci: { ...intervalSchema, type: ['object', 'null'] },
          revenue: { type: 'number', description: 'Credited purchase revenue (quantity × price)' },
          revenue_per_visitor: nullableNumber,
          revenue_per_visitor_ci: { ...intervalSchema, type: ['object', 'null'] },
          lift: {
            type: ['object', 'null'], description: 'null on the control',
            properties: { conversion_rate: liftSchema, revenue_per_visitor: liftSchema },
          },
        },
      },
    },
    srm: {
      type: 'object',
      description: 'Sample ratio mismatch: chi-square goodness of fit of visitors vs weights',
      properties: {
        chi_square: nullableNumber, df: { type: 'integer' }, p_value: { type: 'number' },
        threshold: { type: 'number' }, mismatch: { type: 'boolean', description: 'p < threshold: do not trust the lifts' },
      },
    },
  },
} as const;

interface CreateBody {
  id: string;
  name?: string;
  salt?: string;
  coverage: number;
  variants: Variant[];
}

type IdParams = { Params: { id: string } };
// Lookups take the ids creation does: one that cannot exist is a 400, and never reaches PostgreSQL (a NUL would fail there).
const idParams = { type: 'object', required: ['id'], properties: { id } } as const;

function toJson(e: Experiment) {
  return {
    id: e.id, name: e.name, salt: e.salt, coverage: e.coverage, status: e.status, variants: e.variants,
    created_at: e.createdAt.toISOString(), started_at: e.startedAt?.toISOString() ?? null, stopped_at: e.stoppedAt?.toISOString() ?? null,
  };
}

export async function experimentRoutes(app: FastifyInstance, deps: ExperimentRouteOptions): Promise<void> {
  const { pool } = deps;
  const windowDays = deps.attributionWindowDays ?? DEFAULT_ATTRIBUTION_WINDOW_DAYS;

  async function load(experimentId: string): Promise<Experiment> {
    const experiment = await findExperiment(pool, experimentId);
    if (!experiment) throw new HttpError(404, 'not_found', `no experiment "${experimentId}"`, 'id');
    return experiment;
  }

  async function report(experimentId: string): Promise<Report> {
    const experiment = await load(experimentId);
    return buildReport(experiment, await variantTotals(pool, experiment.id, windowDays * 86_400), windowDays);
  }

  app.post<{ Body: CreateBody }>('/v1/experiments', {
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
          coverage: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1, description: 'Share of users in the experiment' },
          variants: { type: 'array', minItems: 2, maxItems: 20, items: variantSchema },
        },
      },
      response: { 201: experimentSchema, ...errors(400, 409) },
    },
  }, async (request, reply) => {
    const b = request.body;
    checkDefinition(b.variants);
    const created = await insertExperiment(pool, { id: b.id, name: b.name ?? null, salt: b.salt ?? b.id, coverage: b.coverage, variants: b.variants });
    if (!created) throw new HttpError(409, 'conflict', `experiment "${b.id}" already exists`, 'id');
    return reply.code(201).send(toJson(created));
  });

  app.get('/v1/experiments', {
    schema: {
      summary: 'All experiments, newest first',
      tags: ['experiments'],
      response: { 200: { type: 'object', properties: { experiments: { type: 'array', items: experimentSchema } } } },
    },
  }, async () => ({ experiments: (await listExperiments(pool)).map(toJson) }));

  app.get<IdParams>('/v1/experiments/:id', {
    schema: { summary: 'One experiment', tags: ['experiments'], params: idParams, response: { 200: experimentSchema, ...errors(404) } },
  }, async (request) => toJson(await load(request.params.id)));

  for (const action of ['start', 'stop'] as const satisfies readonly Action[]) {
    app.post<IdParams>(`/v1/experiments/:id/${action}`, {
      schema: {
        summary: action === 'start' ? 'Start a draft experiment: users get their variants from now on' : 'Stop a running experiment: everyone gets the control again',
        tags: ['experiments'],
        params: idParams,
        response: { 200: experimentSchema, ...errors(404, 409) },
      },
    }, async (request) => {
      const experiment = await load(request.params.id);
      const next = transition(experiment.status, action);
      const updated = await updateStatus(pool, experiment.id, experiment.status, next);
      if (!updated) throw new HttpError(409, 'invalid_transition', `experiment "${experiment.id}" changed status meanwhile`, 'status');
      return toJson(updated);
    });
  }

  app.get<IdParams & { Querystring: { user: string } }>('/v1/experiments/:id/assignment', {
    schema: {
      summary: "A user's variant (deterministic: GrowthBook hash v2 of salt + user id)",
      description: 'The recommendation endpoints use the same assignment. Outside the coverage, or when the experiment is not running, the user gets the control and in_experiment is false (no exposure is recorded for them).',
      tags: ['experiments'],
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, required: ['user'], properties: { user: { type: 'string', minLength: 1, maxLength: 256 } } },
      response: {
        200: {
          type: 'object',
          required: ['experiment', 'user', 'in_experiment', 'bucket', 'variant'],
          properties: {
            experiment: { type: 'string' }, user: { type: 'string' }, in_experiment: { type: 'boolean' },
            bucket: { type: 'number', description: 'The user\'s hash bucket in [0, 1)' },
            variant: experimentSchema.properties.variants.items,
          },
        },
        ...errors(400, 404),
      },
    },
  }, async (request) => {
    const experiment = await load(request.params.id);
    const a = assign(experiment, request.query.user);
    return { experiment: experiment.id, user: request.query.user, in_experiment: a.inExperiment, bucket: a.bucket, variant: a.variant };
  });

  app.get<IdParams>('/v1/experiments/:id/report', {
    schema: {
      summary: 'Per variant: visitors, exposures, clicks, CTR, conversion, revenue per visitor, lift vs control with 95% intervals, and a sample-ratio check',
      tags: ['experiments'],
      params: idParams,
      response: { 200: reportSchema, ...errors(404) },
    },
  }, async (request) => report(request.params.id));

  app.get<IdParams>('/v1/experiments/:id/report.html', {
    schema: {
      summary: 'The report as a page for people: verdicts, bar charts with confidence whiskers, every number',
      tags: ['experiments'],
      params: idParams,
      produces: ['text/html'],
      response: { 200: { type: 'string', description: 'text/html' }, ...errors(404) },
    },
  }, async (request, reply) => reply.type('text/html; charset=utf-8').send(renderReportHtml(await report(request.params.id))));
}
