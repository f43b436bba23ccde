// Customer lifecycle (docs/lifecycle.md): a user's profile, the segments with their counts, and
// audiences for ESPs: every member of an audience of the current lifecycle build, streamed as
// NDJSON or CSV, whole or in pages whose cursor names the build they are of.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { AUDIENCE_PARAMS, audienceFrom, type AudienceInput } from '../http/audience-params.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
import { HttpError } from '../http/errors.ts';
import { csvColumns, csvLine, profileCsv, profileJson, type RowContext } from '../http/profile-rows.ts';
import { idSchema } from '../ids.ts';
import { audienceKey, inAudience, recordFacts, type Audience, type AudienceName } from '../lifecycle/audiences.ts';
import type { ProfileRecord } from '../lifecycle/profiles.ts';
import { dueWithin, type DueItem } from '../lifecycle/replenishment.ts';
import { SEGMENTS } from '../lifecycle/rfm.ts';
import { SEGMENT_DEFINITIONS, SEGMENT_SLUGS } from '../lifecycle/segments.ts';
import { catalogItems, findProfile, lifecycleSummary, scanProfiles, VersionChangedError, type ProfileScan } from '../store/pg/lifecycle.ts';

const MAX_PAGE = 10_000;
const FORMATS = ['ndjson', 'csv'] as const;
type Format = (typeof FORMATS)[number];
const CONTENT_TYPES: Record<Format, string> = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' };

const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } } as const;
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, errorSchema]));
const num = (description: string) => ({ type: ['number', 'null'], description }) as const;

const dueItemSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: ['string', 'null'] },
    url: { type: ['string', 'null'] },
    image_url: { type: ['string', 'null'] },
    price: { type: ['number', 'null'] },
    currency: { type: ['string', 'null'] },
    due_date: { type: 'string', description: 'When the typical gap since it was last bought is over' },
    due_in_days: { type: 'number', description: 'From the end of the reference day; negative: overdue' },
    typical_gap_days: { type: 'number' },
    times_bought: { type: 'integer' },
    last_bought: { type: 'string' },
    probability: num("Buy-again's probability of a re-buy soon (null: the build fitted no buy-again model)"),
  },
} as const;

const profileSchema = {
  type: 'object',
  properties: {
    model_version: { type: 'integer', description: 'The build the profile is of' },
    as_of: { type: 'string', description: "The build's reference day (the shop's newest purchase): recency and predictions are as of it" },
    user_id: { type: 'string' },
    segment: { type: 'string', enum: SEGMENTS },
    segment_slug: { type: 'string' },
    recency_score: { type: 'integer' },
    frequency_score: { type: 'integer' },
    monetary_score: { type: 'integer' },
    orders: { type: 'integer', description: 'Distinct purchase days' },
    revenue: { type: 'number' },
    average_order_value: { type: 'number' },
    first_purchase: { type: 'string' },
    last_purchase: { type: 'string' },
    days_since_last_purchase: { type: 'integer' },
    mean_days_between_orders: num('Null with one order'),
    median_days_between_orders: num('Null with one order'),
    expected_next_purchase: { type: ['string', 'null'], description: 'Last purchase + median days between orders' },
    p_alive: num('BG/NBD probability that the customer is still a customer (null: no fit)'),
    churn_risk: num('1 − p_alive'),
    expected_purchases_30d: num('BG/NBD'),
    expected_purchases_90d: num('BG/NBD'),
    expected_spend: num('Gamma–Gamma expected spend per purchase'),
    customer_value_365d: num('Expected purchases in 365 days × expected spend'),
    due_items: { type: 'array', items: dueItemSchema, description: 'Buy-again items due (replenishment)' },
  },
} as const;

const audienceQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...AUDIENCE_PARAMS,
    format: { type: 'string', enum: FORMATS, description: 'ndjson (default) or csv; without it, Accept: text/csv asks for CSV' },
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_PAGE,
      description: `A page of at most this many customers, with the next page's cursor in X-Next-Cursor and Link; without it, the whole audience in one stream`,
    },
    cursor: { type: 'string', minLength: 1, maxLength: 4096, description: 'The cursor of the previous page (X-Next-Cursor)' },
  },
} as const;
type AudienceQuery = AudienceInput & { format?: Format; limit?: number; cursor?: string };

const audienceResponse = {
  200: { type: 'string', description: 'One customer per line: NDJSON objects, or CSV with a header line. X-Model-Version and X-As-Of name the build' },
  ...errors(400, 404, 409),
};
const audienceDescription = `Members of the audience among the current lifecycle build's customers (opted-out and erased users never), in user id order, each with the fields an email template needs. Stable for a build: a page's cursor names it, and once a newer build has replaced it the cursor gets 409 version_changed (start again without a cursor). Without limit the whole audience comes in one stream read in one snapshot. Server-side keys only.`;

/** A member of an audience: their profile, and the due items their row carries (replenishment-due). */
interface Member {
  record: ProfileRecord;
  due: DueItem[] | null;
}

/** The members of an audience among the scanned profiles, a chunk at a time, with the due items each row carries. */
async function* members(scan: ProfileScan, audience: Audience): AsyncGenerator<Member[]> {
  for await (const chunk of scan.chunks()) {
    const found = chunk
      .filter((r) => inAudience(recordFacts(r), audience))
      .map((record) => ({ record, due: audience.name === 'replenishment-due' ? dueWithin(record.due_items, audience.within_days) : null }));
    if (found.length > 0) yield found;
  }
}

export async function lifecycleRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { pool } = deps;

  app.get<{ Params: { id: string } }>(
    '/v1/users/:id/profile',
    {
      config: { access: 'read', personal: { user: (request) => (request.params as { id: string }).id } },
      schema: {
        summary: "A customer's lifecycle profile: orders, RFM scores and segment, P(alive), expected purchases, due items",
        description: 'From the last build (docs/lifecycle.md). 404 for a user without one: no purchase, opted out, or erased.',
        tags: ['lifecycle'],
        params: { type: 'object', required: ['id'], properties: { id: { ...idSchema, description: 'User id, as in events (URL-encoded)' } } },
        response: { 200: profileSchema, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const t = deps.tenants.get(request.tenant);
      const found = await findProfile(pool, t.id, request.params.id);
      if (found === null) throw new HttpError(404, 'not_found', 'no lifecycle profile for this user: no purchase in the last build, opted out, or erased', 'id');
      const { record, asOf } = found;
      const [catalog, links] = await Promise.all([
        catalogItems(
          pool,
          t.id,
          record.due_items.map((d) => d.item),
        ),
        t.links.get(),
      ]);
      void reply.header('cache-control', 'private, no-store');
      return { model_version: record.version, as_of: asOf, ...profileJson(record, record.due_items, { asOf, catalog, links }) };
    },
  );

  app.get(
    '/v1/segments',
    {
      config: { access: 'read', personal: 'none' },
      schema: {
        summary: 'The RFM segments: customers in each, and what each means',
        description: 'Counts of the current lifecycle build (opted-out users left out); the fitted BG/NBD and Gamma–Gamma parameters. model_version null before the first build.',
        tags: ['lifecycle'],
        response: {
          200: {
            type: 'object',
            properties: {
              model_version: { type: ['integer', 'null'] },
              as_of: { type: ['string', 'null'] },
              customers: { type: 'integer' },
              bgnbd: { type: ['object', 'null'], additionalProperties: true, description: 'r, alpha, a, b (days), log_likelihood, standard_errors, converged' },
              gamma_gamma: { type: ['object', 'null'], additionalProperties: true, description: 'p, q, v, log_likelihood, standard_errors, repeat_buyers, frequency_spend_correlation' },
              segments: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    segment: { type: 'string' },
                    slug: { type: 'string', description: 'As GET /v1/audiences/segment/{slug} and experiment audiences take it' },
                    customers: { type: 'integer' },
                    recency: { type: 'array', items: { type: 'integer' }, description: 'R scores (from, to)' },
                    fm: { type: 'array', items: { type: 'integer' }, description: 'FM scores (from, to): the mean of F and M, rounded down' },
                    who: { type: 'string' },
                    what_works: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const summary = await lifecycleSummary(pool, request.tenant);
      const segments = SEGMENT_DEFINITIONS.map((d) => ({ ...d, customers: summary?.segments[d.segment] ?? 0 }));
      return {
        model_version: summary?.version ?? null,
        as_of: summary?.as_of ?? null,
        customers: segments.reduce((n, s) => n + s.customers, 0),
        bgnbd: summary?.bgnbd ?? null,
        gamma_gamma: summary?.gamma_gamma ?? null,
        segments,
      };
    },
  );

  /** An audience's members as NDJSON or CSV: the whole audience streamed, or one page and the next one's cursor. */
  async function send(request: FastifyRequest<{ Querystring: AudienceQuery }>, reply: FastifyReply, audience: Audience, name: string) {
    const q = request.query;
    const key = audienceKey(audience);
    const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor, key);
    const format: Format = q.format ?? (request.headers.accept?.includes('text/csv') ? 'csv' : 'ndjson');
    const t = deps.tenants.get(request.tenant);
    let scan: ProfileScan | null;
    try {
      scan = await scanProfiles(pool, t.id, { version: cursor?.version, after: cursor?.after, segments: audience.name === 'segment' ? audience.segments : undefined });
    } catch (err) {
      if (!(err instanceof VersionChangedError)) throw err;
      throw new HttpError(409, 'version_changed', `this cursor's lifecycle build (${err.asked}) was replaced by a newer one (${err.current ?? 'none'}): start again without a cursor`, 'cursor');
    }
    if (scan === null) throw new HttpError(404, 'not_built', 'no lifecycle build for this shop yet: the next model build makes one');
    const { version } = scan;
    const links = await t.links.get().catch((err: Error) => {
      void scan.close();
      throw err;
    });
    const columns = csvColumns(audience.name === 'replenishment-due');
    const line = (m: Member, c: RowContext) => {
      const json = profileJson(m.record, m.due, c);
      return format === 'csv' ? profileCsv(json, columns) : `${JSON.stringify(json)}\n`;
    };
    async function* lines(chunks: AsyncIterable<Member[]> | Iterable<Member[]>): AsyncGenerator<string> {
      if (format === 'csv') yield csvLine(columns);
      for await (const chunk of chunks) {
        const due = chunk.flatMap((m) => m.due ?? []).map((d) => d.item);
        const catalog = due.length > 0 ? await catalogItems(pool, t.id, due) : new Map();
        yield chunk.map((m) => line(m, { asOf: version.as_of, catalog, links })).join('');
      }
    }
    void reply.header('x-model-version', String(version.version)).header('x-as-of', version.as_of).header('cache-control', 'private, no-store').header('vary', 'accept').type(CONTENT_TYPES[format]);
    if (format === 'csv') void reply.header('content-disposition', `attachment; filename="${name}-v${version.version}.csv"`);
    if (q.limit === undefined) return reply.send(Readable.from(lines(members(scan, audience))));

    // A page: up to limit members, and whether one more follows (then the next page starts after the last given).
    const page: Member[] = [];
    let more = false;
    for await (const chunk of members(scan, audience)) {
      page.push(...chunk);
      if (page.length > q.limit) {
        more = true;
        break;
      }
    }
    page.length = Math.min(page.length, q.limit);
    if (more) {
      const next = encodeCursor({ version: version.version, after: page[page.length - 1].record.user_id, audience: key });
      const url = new URL(request.url, 'http://localhost');
      url.searchParams.set('cursor', next);
      void reply.header('x-next-cursor', next).header('link', `<${url.pathname}${url.search}>; rel="next"`);
    }
    let body = '';
    for await (const text of lines([page])) body += text;
    return reply.send(body);
  }

  const audienceConfig = { access: 'read', personal: 'many-users' } as const;
  const NAMED = ['replenishment-due', 'reactivation', 'churn-risk'] as const satisfies readonly AudienceName[];

  app.get<{ Params: { name: (typeof NAMED)[number] }; Querystring: AudienceQuery }>(
    '/v1/audiences/:name',
    {
      config: audienceConfig,
      schema: {
        summary: 'An audience for an ESP: replenishment-due, reactivation or churn-risk (NDJSON or CSV, streamed, paged by cursor)',
        description: `${audienceDescription} replenishment-due rows carry the due items (due_items).`,
        tags: ['lifecycle'],
        produces: ['application/x-ndjson', 'text/csv'],
        params: { type: 'object', required: ['name'], properties: { name: { type: 'string', enum: NAMED } } },
        querystring: audienceQuery,
        response: audienceResponse,
      },
    },
    (request, reply) => {
      const { format: _f, limit: _l, cursor: _c, ...params } = request.query;
      return send(request, reply, audienceFrom(request.params.name, params), request.params.name);
    },
  );

  app.get<{ Params: { segment: string }; Querystring: AudienceQuery }>(
    '/v1/audiences/segment/:segment',
    {
      config: audienceConfig,
      schema: {
        summary: 'The customers of one RFM segment, for an ESP (NDJSON or CSV, streamed, paged by cursor)',
        description: audienceDescription,
        tags: ['lifecycle'],
        produces: ['application/x-ndjson', 'text/csv'],
        params: { type: 'object', required: ['segment'], properties: { segment: { type: 'string', enum: SEGMENT_SLUGS, description: "The segment's slug (GET /v1/segments)" } } },
        querystring: audienceQuery,
        response: audienceResponse,
      },
    },
    (request, reply) => {
      const { format: _f, limit: _l, cursor: _c, ...params } = request.query;
      return send(request, reply, audienceFrom('segment', { ...params, segments: [request.params.segment] }), `segment-${request.params.segment}`);
    },
  );
}
