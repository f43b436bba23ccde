// The website widget's script (src/widget/recs-widget.js, docs/widget.md), read once at start:
//   GET /widget.js          the current script, cached 5 minutes (revalidated by ETag): follows upgrades;
//   GET /widget/{hash}.js   the same bytes under their content address, cached for a year: pin it
//                           with the integrity (SRI) of GET /widget.json;
//   GET /widget.json        { url, integrity, version } of the current script.
// Public, about no one, and readable from any origin (a <script crossorigin> with SRI needs CORS).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppDeps } from '../deps.ts';

export const WIDGET_SOURCE = new URL('../widget/recs-widget.js', import.meta.url);

const PUBLIC = { access: 'public', personal: 'none' } as const;
const SHORT_CACHE = 'public, max-age=300';
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface WidgetScript {
  body: Buffer;
  /** First 16 hex digits of its SHA-384: the content address. */
  version: string;
  /** Subresource Integrity of the body. */
  integrity: string;
}

function widgetScript(body: Buffer): WidgetScript {
  const digest = createHash('sha384').update(body).digest();
  return { body, version: digest.toString('hex').slice(0, 16), integrity: `sha384-${digest.toString('base64')}` };
}

export async function widgetRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'config'>): Promise<void> {
  const script = widgetScript(await readFile(WIDGET_SOURCE));
  const etag = `"${script.version}"`;
  const path = `/widget/${script.version}.js`;

  const send = (reply: FastifyReply, cacheControl: string) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', cacheControl)
      .header('etag', etag)
      .header('access-control-allow-origin', '*')
      // Pages that isolate themselves (COEP require-corp) may load it too.
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('x-content-type-options', 'nosniff')
      .send(script.body);

  app.get(
    '/widget.js',
    {
      config: PUBLIC,
      schema: { summary: 'The website widget script (follows upgrades; cached 5 minutes)', tags: ['widget'] },
    },
    async (request, reply) => {
      if (request.headers['if-none-match'] === etag) return reply.code(304).header('etag', etag).header('cache-control', SHORT_CACHE).send();
      return send(reply, SHORT_CACHE);
    },
  );

  app.get<{ Params: { file: string } }>(
    '/widget/:file',
    {
      config: PUBLIC,
      schema: {
        summary: 'The website widget script at its content address (immutable; see /widget.json)',
        tags: ['widget'],
        params: { type: 'object', required: ['file'], properties: { file: { type: 'string', maxLength: 64 } } },
      },
    },
    async (request, reply) => {
      // Only the current version is served: another hash would not match its integrity anyway.
      if (request.params.file !== `${script.version}.js`) {
        return reply
          .code(404)
          .header('cache-control', 'no-store')
          .send({ error: 'not_found', message: `no widget version ${request.params.file}: GET /widget.json names the current one` });
      }
      return send(reply, IMMUTABLE);
    },
  );

  app.get(
    '/widget.json',
    {
      config: PUBLIC,
      schema: {
        summary: 'Where the current widget script is and its Subresource Integrity hash',
        tags: ['widget'],
        response: {
          200: {
            type: 'object',
            properties: {
              url: { type: 'string', description: 'The script at its content address (cacheable for a year)' },
              integrity: { type: 'string', description: 'The integrity attribute of the <script> tag (sha384-…)' },
              version: { type: 'string' },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', SHORT_CACHE).header('access-control-allow-origin', '*');
      return { url: `${deps.config.email.publicBaseUrl}${path}`, integrity: script.integrity, version: script.version };
    },
  );
}
