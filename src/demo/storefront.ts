// The demo storefront (npm run demo): a small shop per tenant on an origin of its own, using the
// service as a shop would. Its pages carry <recs-widget> blocks with the shop's browser key; its
// backend signs each visitor's user token and sends views and carts to POST /v1/events with the
// shop's server key. Product links and images in the answers come from the tenant's templates,
// which point here (npm run tenants -- set …). Not for production: a demo of the integration.
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type pg from 'pg';
import { signUserToken, tenantUserTokenSecret, verifyUserToken } from '../auth/user-token.ts';
import { homePage, indexPage, notFoundPage, productPage, type Shop, type Visitor } from './pages.ts';
import { placeholderSvg } from './placeholder.ts';
import { findProduct, sampleCustomers } from './shop-data.ts';
import { SECONDS_PER_DAY } from '../lib/time.ts';

export interface StorefrontShop extends Shop {
  /** The shop's server-side key (scope write): never sent to a browser. */
  serverKey: string;
}

export interface StorefrontOptions {
  shops: readonly StorefrontShop[];
  /** The API as this server reaches it (its events go there). */
  apiUrl: string;
  /**
   * The API's USER_TOKEN_SECRET, from which each shop's own signing secret is derived (one demo
   * process plays every shop's backend; a real shop holds only its own, npm run tenants).
   */
  userTokenSecret: string;
  db: Pick<pg.Pool, 'query'>;
  logger?: boolean;
}

const TOKEN_TTL_SECONDS = SECONDS_PER_DAY;
const SAMPLE_CUSTOMERS = 6;
const COOKIE = (tenant: string) => `visitor_${tenant}`;
const HTML = 'text/html; charset=utf-8';

interface CartEvent {
  type: 'cart';
  item_id: string;
  request_id?: string;
  price?: number;
  quantity?: number;
}

export async function buildStorefront(o: StorefrontOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: o.logger ?? false });
  await app.register(cookie);
  const shops = new Map(o.shops.map((s) => [s.tenant, s]));
  const samples = new Map<string, Promise<string[]>>();
  const samplesOf = (tenant: string) => {
    let list = samples.get(tenant);
    if (list === undefined) samples.set(tenant, (list = sampleCustomers(o.db, tenant, SAMPLE_CUSTOMERS).catch(() => [])));
    return list;
  };

  function shopOf(request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply): StorefrontShop | null {
    const shop = shops.get(request.params.tenant);
    if (shop === undefined)
      void reply
        .code(404)
        .type(HTML)
        .send(notFoundPage(`No shop "${request.params.tenant}" here.`));
    return shop ?? null;
  }

  const signIn = (reply: FastifyReply, tenant: string, user: string): Visitor => {
    const token = signUserToken(user, tenantUserTokenSecret(o.userTokenSecret, tenant), TOKEN_TTL_SECONDS);
    void reply.setCookie(COOKIE(tenant), `${user} ${token}`, { path: `/demo/${tenant}/`, httpOnly: true, sameSite: 'lax', maxAge: TOKEN_TTL_SECONDS });
    return { id: user, token, sample: !user.startsWith('visitor-') };
  };

  /** The visitor of the cookie when its token is this server's and still valid; else a new anonymous visitor. */
  function visitorOf(request: FastifyRequest, reply: FastifyReply, tenant: string): Visitor {
    const value = request.cookies[COOKIE(tenant)] ?? '';
    const cut = value.lastIndexOf(' ');
    const [user, token] = [value.slice(0, cut), value.slice(cut + 1)];
    if (user && token && verifyUserToken(token, user, tenantUserTokenSecret(o.userTokenSecret, tenant)).ok) return { id: user, token, sample: !user.startsWith('visitor-') };
    return signIn(reply, tenant, `visitor-${crypto.randomUUID().slice(0, 8)}`);
  }

  /**
   * A POST to the API as the shop's backend: its server key, ids from its own session, never
   * from the page. False (logged) when the API refused it or could not be reached.
   */
  async function postAsBackend(shop: StorefrontShop, path: string, body: object, what: string): Promise<boolean> {
    try {
      const res = await fetch(`${o.apiUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': shop.serverKey },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(2000),
      });
      if (!res.ok) app.log.warn({ status: res.status, body: await res.text() }, `the API refused ${what}`);
      return res.ok;
    } catch (err) {
      app.log.warn({ err }, `could not send ${what} to the API`);
      return false;
    }
  }

  const sendEvents = (shop: StorefrontShop, events: object[]) => postAsBackend(shop, '/v1/events', { events }, "the shop's events");

  /** At a login: the anonymous visitor id is the customer's from now on (docs/identity.md). */
  const linkIdentity = (shop: StorefrontShop, anonymous: string, customer: string) =>
    postAsBackend(shop, '/v1/identities', { anonymous_id: anonymous, customer_id: customer }, 'the link of the visitor to the customer');

  app.get('/', async (_request, reply) => reply.redirect('/demo/'));
  app.get('/demo/', async (_request, reply) => reply.type(HTML).send(indexPage(o.shops)));

  app.get<{ Params: { tenant: string } }>('/demo/:tenant/', async (request, reply) => {
    const shop = shopOf(request, reply);
    if (shop === null) return reply;
    return reply.type(HTML).send(homePage(shop, visitorOf(request, reply, shop.tenant), await samplesOf(shop.tenant)));
  });

  app.get<{ Params: { tenant: string; id: string } }>('/demo/:tenant/p/:id', async (request, reply) => {
    const shop = shopOf(request, reply);
    if (shop === null) return reply;
    const product = await findProduct(o.db, shop.tenant, request.params.id);
    if (product === null)
      return reply
        .code(404)
        .type(HTML)
        .send(notFoundPage(`No product "${request.params.id}" in ${shop.name}.`));
    const visitor = visitorOf(request, reply, shop.tenant);
    // The view is stored before the page goes out: its recently-viewed block already counts it.
    await sendEvents(shop, [{ user_id: visitor.id, item_id: product.id, type: 'view' }]);
    return reply.type(HTML).send(productPage(shop, visitor, product));
  });

  app.get<{ Params: { tenant: string; file: string } }>('/demo/:tenant/img/:file', async (request, reply) => {
    const shop = shopOf(request, reply);
    if (shop === null) return reply;
    const id = request.params.file.replace(/\.svg$/, '');
    const product = await findProduct(o.db, shop.tenant, id);
    return reply
      .type('image/svg+xml')
      .header('cache-control', 'public, max-age=86400')
      .send(placeholderSvg(id, product?.title ?? null));
  });

  // Shop as one of the sample customers, or (new) as a fresh visitor.
  app.get<{ Params: { tenant: string; user: string } }>('/demo/:tenant/as/:user', async (request, reply) => {
    const shop = shopOf(request, reply);
    if (shop === null) return reply;
    const { user } = request.params;
    if (user === 'new') signIn(reply, shop.tenant, `visitor-${crypto.randomUUID().slice(0, 8)}`);
    else if ((await samplesOf(shop.tenant)).includes(user)) {
      // A login: what the visitor browsed anonymously becomes the customer's (docs/identity.md).
      const before = visitorOf(request, reply, shop.tenant);
      if (!before.sample) await linkIdentity(shop, before.id, user);
      signIn(reply, shop.tenant, user);
    } else return reply.code(404).type(HTML).send(notFoundPage('Only the sample customers listed on the home page can be shopped as.'));
    return reply.redirect(`/demo/${shop.tenant}/`);
  });

  app.post<{ Params: { tenant: string }; Body: CartEvent }>(
    '/demo/:tenant/events',
    {
      schema: {
        body: {
          type: 'object',
          required: ['type', 'item_id'],
          properties: {
            type: { const: 'cart' },
            item_id: { type: 'string', minLength: 1, maxLength: 256 },
            request_id: { type: 'string', maxLength: 256 },
            price: { type: 'number', minimum: 0 },
            quantity: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
      },
    },
    async (request, reply) => {
      const shop = shopOf(request, reply);
      if (shop === null) return reply;
      const { type, item_id, request_id, price, quantity } = request.body;
      const visitor = visitorOf(request, reply, shop.tenant);
      const ok = await sendEvents(shop, [{ user_id: visitor.id, item_id, type, request_id, price, quantity }]);
      return reply.code(ok ? 200 : 502).send({ ok });
    },
  );

  return app;
}
