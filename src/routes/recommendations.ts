// GET /v1/recommendations/{recently-viewed|same-brand|collaborative|popular}: Redis only on
// the hot path (src/store/redis/rec-store.ts), the ranking in src/recommend. GET /v1/recommendations
// ?experiment=ID&user=U: the strategy of the user's variant, with an exposure recorded (when the
// block is fetched, or with exposure=impression when it is seen, src/experiments/exposures.ts).
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { userInQuery } from '../auth/access.ts';
import type { AppDeps } from '../deps.ts';
import { blockTail, fieldSet, rememberedTail } from '../http/block-json.ts';
import { experimentQuery, filterParams, responseSchema, ROUTES, splitCommaLists } from '../http/recommendation-params.ts';
import { recommendWithin, type ServedResult } from '../recommend/degraded.ts';
import type { LinkTemplates } from '../recommend/links.ts';
import { recRequest, servingOptions, withVariant, type Query } from '../recommend/request.ts';
import type { Strategy } from '../recommend/types.ts';
import type { TenantServices } from '../tenants.ts';

export async function recommendationRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { serving } = deps.config;
  const options = servingOptions(deps.config);

  async function answer(t: TenantServices, strategy: Strategy, q: Query, log: FastifyBaseLogger): Promise<ServedResult> {
    const request = recRequest(strategy, q);
    const started = performance.now();
    let fromCache = false;
    const result = await recommendWithin(t.store, request, options, serving.deadlineMs, (err) => {
      fromCache = true;
      deps.metrics.degraded(t.id, strategy);
      deps.outages.redis.down(err, log);
    });
    if (!fromCache) deps.outages.redis.up();
    deps.metrics.recommendation(t.id, strategy, result.sources, result.items.length, (performance.now() - started) / 1000);
    return result;
  }

  // A degraded block must not be kept by a browser, CDN or ESP past the outage.
  const cacheControl = (result: ServedResult, personal: string) => (result.degraded ? 'no-store' : personal);

  /**
   * A block's body, written here (src/http/block-json.ts) in the fields and order of the
   * response schema; `extra` holds the optional fields that come before `sources`.
   */
  const json = (reply: FastifyReply, requestId: string, strategy: Strategy, version: number | null, extra: string, tail: string) => {
    void reply.type('application/json; charset=utf-8');
    return `{"request_id":${JSON.stringify(requestId)},"strategy":"${strategy}","model_version":${version},${extra}${tail}`;
  };
  const flags = (result: ServedResult) => (result.optedOut ? '"opted_out":true,' : '') + (result.degraded ? '"degraded":true,' : '');
  const body = (reply: FastifyReply, requestId: string, strategy: Strategy, result: ServedResult, fields: Query['fields'], links: LinkTemplates, extra = '') =>
    json(reply, requestId, strategy, result.model.version, flags(result) + extra, rememberedTail(result.sources, result.items, fields, links));

  const publicCacheControl = `public, max-age=${serving.publicMaxAgeSeconds}`;

  /**
   * A block without a user is the same for every caller of one model version of the tenant:
   * served from the tenant's block cache, its tail serialized once.
   */
  async function nonPersonal(t: TenantServices, strategy: Strategy, q: Query, request: FastifyRequest, reply: FastifyReply) {
    const key = `${strategy} ${JSON.stringify(q)}`;
    const started = performance.now();
    const [live, links] = await Promise.all([
      t.store.model().then(
        (m) => m.version,
        () => null,
      ),
      t.links.get(),
    ]);
    let block = live === null ? undefined : t.blocks.get(live, links, key);
    let version = live;
    if (block === undefined) {
      const result = await answer(t, strategy, q, request.log);
      if (result.degraded) {
        void reply.header('cache-control', 'no-store');
        return body(reply, request.id, strategy, result, q.fields, links);
      }
      block = { tail: blockTail(result.sources, result.items, fieldSet(q.fields), links), sources: result.sources, items: result.items.length };
      version = result.model.version;
      if (version !== null) t.blocks.set(version, links, key, block);
    } else {
      deps.metrics.recommendation(t.id, strategy, block.sources, block.items, (performance.now() - started) / 1000);
    }
    void reply.header('cache-control', publicCacheControl);
    return json(reply, request.id, strategy, version, '', block.tail);
  }

  for (const spec of ROUTES) {
    app.get<{ Querystring: Query }>(
      `/v1/recommendations/${spec.strategy}`,
      {
        config: { access: 'read', personal: userInQuery },
        preValidation: splitCommaLists,
        schema: {
          summary: spec.summary,
          description: spec.description,
          tags: ['recommendations'],
          querystring: { type: 'object', additionalProperties: false, required: spec.required ?? [], properties: { ...spec.params, ...filterParams } },
          response: responseSchema,
        },
      },
      async (request, reply) => {
        const q = request.query;
        const t = deps.tenants.get(request.tenant);
        if (q.user === undefined) return nonPersonal(t, spec.strategy, q, request, reply);
        const [result, links] = await Promise.all([answer(t, spec.strategy, q, request.log), t.links.get()]);
        // A user's block is theirs alone and changes with their next view: private and short.
        void reply.header('cache-control', cacheControl(result, `private, max-age=${serving.privateMaxAgeSeconds}`));
        return body(reply, request.id, spec.strategy, result, q.fields, links);
      },
    );
  }

  // The A/B harness: the user's deterministic variant picks the strategy and its parameters.
  app.get<{ Querystring: Query & { experiment: string; user: string; exposure: 'fetch' | 'impression' } }>(
    '/v1/recommendations',
    {
      config: { access: 'read', personal: userInQuery },
      preValidation: splitCommaLists,
      schema: {
        summary: "The block of the user's variant in an experiment (A/B test of strategies)",
        description:
          'The variant comes from GrowthBook-compatible hashing of the experiment salt and user id (GET /v1/experiments/{id}/assignment tells it). Its strategy and parameters are used (they win over the same query parameters), and an exposure is recorded for request_id (batched, off the request path) while the experiment runs and the user is in its coverage: now, or with exposure=impression when the block is seen (POST /v1/widget/events).',
        tags: ['recommendations', 'experiments'],
        querystring: experimentQuery,
        response: { ...responseSchema, 404: { ...responseSchema[400], description: 'No such experiment' } },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const t = deps.tenants.get(request.tenant);
      const { experiment, assignment } = await deps.experiments.assign(t.id, q.experiment, q.user);
      const { variant } = assignment;
      const exposure = assignment.inExperiment
        ? { tenant: t.id, experimentId: experiment.id, variant: variant.key, userId: q.user, requestId: request.id, strategy: variant.strategy, exposedAt: new Date() }
        : null;
      const deferred = q.exposure === 'impression';
      const [result, links] = await Promise.all([
        answer(t, variant.strategy, withVariant(q, variant.params), request.log),
        t.links.get(),
        exposure !== null && !deferred ? deps.exposures.note(exposure) : null,
      ]);
      if (exposure !== null) {
        const shown = { ...exposure, items: result.items.map((i) => i.id) };
        if (deferred) await deps.exposures.defer(shown);
        else deps.exposures.record(shown);
      }
      void reply.header('cache-control', cacheControl(result, `private, max-age=${serving.privateMaxAgeSeconds}`));
      const about = `"experiment":${JSON.stringify(experiment.id)},"variant":${JSON.stringify(variant.key)},"in_experiment":${assignment.inExperiment},`;
      return body(reply, request.id, variant.strategy, result, q.fields, links, about);
    },
  );
}
