// GET /v1/r/{token}: a tracked link. The signed token says where to go and what to credit; the
// click is stored as an event (request_id, variant, position) and the browser sent on with a 302.
// Public (opened from emails); never an open redirect: the target only ever comes from the token.
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { recordClick } from '../store/pg/clicks.ts';
import { decodeClickToken } from '../email/click-token.ts';
import { HttpError } from '../http/errors.ts';

const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } } as const;

export async function clickRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Params: { token: string } }>(
    '/v1/r/:token',
    {
      // Opened from emails: the token is the credential, and the answer is only a redirect.
      config: { access: 'public', personal: 'none' },
      schema: {
        summary: 'Follow a tracked link from an email block: records the click, redirects (302) to the product page',
        tags: ['email'],
        params: { type: 'object', required: ['token'], properties: { token: { type: 'string', maxLength: 4096 } } },
        response: {
          302: { type: 'null', description: 'To the product page' },
          400: { ...errorSchema, description: 'Not a token we signed (altered or truncated)' },
          410: { ...errorSchema, description: 'The link has expired' },
        },
      },
    },
    async (request, reply) => {
      const check = decodeClickToken(request.params.token, deps.email.secret);
      if (!check.ok) {
        throw check.reason === 'expired' ? new HttpError(410, 'link_expired', 'this link has expired') : new HttpError(400, 'invalid_link', 'this link is not valid');
      }
      const { click } = check;
      // HEAD is what link scanners send: it is answered, never counted. A click the database cannot
      // take is logged, and the shopper still reaches the product.
      if (request.method === 'GET' && click.user !== null) {
        await recordClick(deps.pool, click.tenant, { ...click, user: click.user }, new Date()).catch((err: Error) => request.log.warn({ err }, 'click not recorded'));
      }
      return reply.header('cache-control', 'no-store').redirect(click.target, 302);
    },
  );
}
