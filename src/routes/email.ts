// Email blocks for ESPs (Braze Connected Content and the like), fetched at send time:
//   GET  /v1/email/{strategy}.json|.html          with a read API key (ESP server side)
//   GET  /v1/email/signed/{strategy}.json|.html   with exp + sig over (user, mail_id), no key
//   POST /v1/email/batch                          up to 1000 users, one block each (read key)
// The work is in src/email/blocks.ts; here: parameters, signatures, rendering, ETag/304.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { userInQuery } from '../auth/access.ts';
import { templateContext, type Block, type BlockItem } from '../email/block.ts';
import type { BlockQuery } from '../email/blocks.ts';
import { verifyEmailUrl } from '../email/signed-url.ts';
import { keptWith } from '../lib/kept-with.ts';
import type { Strategy } from '../recommend/types.ts';
import { DEFAULT_TENANT, TENANT_ID } from '../tenant.ts';
import { experimentParam, filterParams, id, itemParam, repeatSchema, ROUTES, splitCommaLists, userParam } from '../http/recommendation-params.ts';

export const MAX_BATCH_USERS = 1000;
// Concurrent blocks of one batch: enough to keep Redis busy, few enough not to starve other requests.
const BATCH_CONCURRENCY = 32;
const FORMATS = ['json', 'html'] as const;

interface EmailQuery extends BlockQuery {
  columns: number;
  exp?: number;
  sig?: string;
  /** Signed URLs only: the shop, covered by the signature. */
  tenant?: string;
}

const { fields: _catalogFields, ...catalogFilters } = filterParams;
const blockParams = {
  ...catalogFilters,
  limit: { ...filterParams.limit, default: 6 },
  exclude_purchased: { type: 'boolean', description: "Leave out items the user bought (default: as the strategy's recommendation endpoint)" },
  experiment: { ...experimentParam, description: "Experiment id: the strategy and parameters of the user's variant replace this path's; an exposure is recorded once per request_id" },
  mail_id: { ...id, description: 'Id of the email (per recipient or per send): its blocks never repeat an item, and each block keeps its items when fetched again' },
} as const;

const emailParams = {
  ...blockParams,
  user: { ...userParam, description: 'User id (needs a read API key, or exp + sig)' },
  columns: { type: 'integer', minimum: 1, maximum: 6, default: 3, description: 'HTML only: items per table row' },
  exp: { type: 'integer', minimum: 0, maximum: 1e12, description: 'Signed URL: expiry, Unix seconds' },
  sig: {
    type: 'string',
    minLength: 1,
    maxLength: 128,
    description: 'Signed URL: base64url HMAC-SHA256 of "email-url.{exp}.{JSON [user, mail_id or null]}" ([user, mail_id, tenant] for a tenant other than default)',
  },
} as const;
const signedParams = {
  ...emailParams,
  tenant: { type: 'string', pattern: TENANT_ID.source, default: DEFAULT_TENANT, description: 'Signed URL: the shop (covered by sig); default: the default tenant' },
} as const;

const blockItemSchema = {
  type: 'object',
  properties: {
    position: { type: 'integer' },
    id: { type: 'string' },
    title: { type: 'string' },
    price: { type: ['number', 'null'] },
    currency: { type: ['string', 'null'] },
    image_url: { type: ['string', 'null'] },
    link: { type: ['string', 'null'], description: 'Click-tracking link (302 to the product page); null when the item has no page' },
    source: { type: 'string' },
    because: { type: 'string' },
    repeat: repeatSchema,
  },
} as const;

const blockSchema = {
  type: 'object',
  properties: {
    request_id: { type: 'string', description: 'Deterministic: the same for the same user, mail_id, block and model version. Echo it on purchase events' },
    strategy: { type: 'string' },
    experiment: { type: 'string' },
    variant: { type: 'string' },
    model_version: { type: ['integer', 'null'] },
    degraded: { type: 'boolean', description: "Present (true): the popular fallback (no model live, or Redis slow or down), or made without the user's history because their opt-out was not known" },
    opted_out: { type: 'boolean', description: 'Present (true) when the user opted out of personalisation: the block ignores their history, and earlier blocks of the mail are not reused' },
    mail_id: { type: 'string' },
    user: { type: 'string' },
    html: { type: 'string' },
    items: { type: 'array', items: blockItemSchema },
  },
} as const;

const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } } as const;

/** Is `etag` among the If-None-Match header's tags (or is it `*`)? */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

export async function emailRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { maxAgeSeconds } = deps.config.email;

  const html = (block: Block, columns: number) => deps.email.template.render(templateContext(block, columns));

  // A kept result's items come back as the same list (src/email/block.ts): the block rendered from
  // them, and its ETag, are kept with it, for the same head (request_id, flags…) and layout.
  const rendered = keptWith<readonly BlockItem[], string, { body: string; etag: string }>();
  const render = (block: Block, format: (typeof FORMATS)[number], columns: number) =>
    rendered(block.items, `${format} ${columns} ${JSON.stringify({ ...block, items: undefined })}`, () => {
      const body = format === 'json' ? JSON.stringify(block) : html(block, columns);
      return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` };
    });

  /** Sends a rendered block with its validators: an ESP re-fetching an unchanged block gets a 304. */
  function send(request: FastifyRequest, reply: FastifyReply, { body, etag }: { body: string; etag: string }, type: string, personal: boolean) {
    void reply.header('etag', etag).header('cache-control', `${personal ? 'private' : 'public'}, max-age=${maxAgeSeconds}`);
    if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
    return reply.type(type).send(body);
  }

  // A signed URL stands in for the API key and the user's token: its signature covers the user.
  const signedBlock = {
    access: 'public',
    personal: {
      user: (request: FastifyRequest) => (request.query as EmailQuery).user,
      signature: (request: FastifyRequest) => {
        const q = request.query as EmailQuery;
        return verifyEmailUrl(q.sig!, deps.email.secret, q.user!, q.mail_id ?? null, q.exp!, Date.now(), q.tenant);
      },
    },
  } as const;
  const keyedBlock = { access: 'read', personal: userInQuery } as const;

  for (const spec of ROUTES) {
    for (const format of FORMATS) {
      for (const signed of [false, true]) {
        const properties = { ...(signed ? signedParams : emailParams), ...('item' in spec.params ? { item: itemParam } : {}) };
        const required = [...new Set([...(spec.required ?? []), ...(signed ? ['user', 'exp', 'sig'] : [])])];
        app.get<{ Querystring: EmailQuery }>(
          `/v1/email/${signed ? 'signed/' : ''}${spec.strategy}.${format}`,
          {
            config: signed ? signedBlock : keyedBlock,
            preValidation: splitCommaLists,
            schema: {
              summary: `Email block (${format.toUpperCase()}): ${spec.summary.toLowerCase()}${signed ? '; signed URL, no API key' : ''}`,
              description: `${spec.description} Deterministic for the same URL and model version (ETag, 304 on If-None-Match); degrades to popular items instead of failing.${signed ? ' Public: exp and sig (over user and mail_id) stand in for the API key.' : ''}`,
              tags: ['email'],
              querystring: { type: 'object', additionalProperties: false, required, properties, dependencies: { experiment: ['user'], sig: ['exp', 'user'], exp: ['sig'] } },
              response: {
                200: format === 'json' ? blockSchema : { type: 'string', description: 'text/html: a table-based block (templates/email-block.html)' },
                304: { type: 'null', description: 'Not modified (If-None-Match)' },
                ...Object.fromEntries([400, 403, 404, 410].map((code) => [code, errorSchema])),
              },
            },
          },
          async (request, reply) => {
            const q = request.query;
            // A signed URL names its shop (its signature, checked by the auth hooks, covers it); a keyed one acts for the key's.
            const { tenant, exp: _exp, sig: _sig, ...query } = q;
            const block = await deps.email.blocks.block(deps.tenants.get(signed ? tenant! : request.tenant), spec.strategy, query, request.log);
            const personal = q.user !== undefined;
            return send(request, reply, render(block, format, q.columns), format === 'json' ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8', personal);
          },
        );
      }
    }
  }

  app.post<{ Body: BlockQuery & { strategy: Strategy; users: string[]; html: boolean; columns: number } }>(
    '/v1/email/batch',
    {
      config: { access: 'read', personal: 'many-users' },
      schema: {
        summary: `Email blocks for up to ${MAX_BATCH_USERS} users at once (one block each), for ESP batch pipelines`,
        description: 'The same blocks, request_ids and exposures as GET /v1/email/{strategy}.json for each user with these parameters. Needs a read API key.',
        tags: ['email'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['strategy', 'users'],
          properties: {
            strategy: { type: 'string', enum: ROUTES.map((r) => r.strategy), description: "Strategy (replaced by the variant's with experiment)" },
            users: { type: 'array', items: id, minItems: 1, maxItems: MAX_BATCH_USERS, description: `1..${MAX_BATCH_USERS} user ids` },
            html: { type: 'boolean', default: false, description: 'Also render each block with the HTML template (field html)' },
            columns: emailParams.columns,
            ...blockParams,
          },
        },
        response: { 200: { type: 'object', properties: { blocks: { type: 'array', items: blockSchema } } }, ...Object.fromEntries([400, 404].map((code) => [code, errorSchema])) },
      },
    },
    async (request) => {
      const { users, strategy, html: withHtml, columns, ...shared } = request.body;
      const t = deps.tenants.get(request.tenant);
      const blocks: (Block & { user: string; html?: string })[] = new Array(users.length);
      for (let start = 0; start < users.length; start += BATCH_CONCURRENCY) {
        await Promise.all(
          users.slice(start, start + BATCH_CONCURRENCY).map(async (user, k) => {
            const block = await deps.email.blocks.block(t, strategy, { ...shared, user }, request.log);
            blocks[start + k] = { user, ...block, html: withHtml ? html(block, columns) : undefined };
          }),
        );
      }
      return { blocks };
    },
  );
}
