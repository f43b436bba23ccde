// Every request passes two hooks. onRequest: API key → the route's declared scope → origin →
// rate limit. preHandler (after validation, so body and path are parsed): the route's declared
// personal data → a browser key needs the user's token (src/auth/access.ts). Registered with
// fastify-plugin, so the hooks guard the routes of every plugin of the app.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../http/errors.ts';
import { ALL_TENANTS, DEFAULT_TENANT, TENANT_ID } from '../tenant.ts';
import { byOwners, declareAccess, type Access } from './access.ts';
import type { Scope } from './api-key.ts';
import { KeyRing, type ActiveKey } from './key-ring.ts';
import { formatRate, type Rate, type RateDecision } from './rate.ts';
import type { AuthSettings } from './settings.ts';
import { tenantUserTokenSecret, verifyUserToken } from './user-token.ts';

export interface AuthOptions {
  settings: AuthSettings;
  /** The active keys (read every AUTH_KEY_CACHE_MS, src/store/pg/api-keys.ts). */
  loadKeys: () => Promise<ActiveKey[]>;
  /** Counts one request of a key in a tenant against its rate; null when no count can be kept (Redis away: unlimited). */
  consume: (tenant: string, keyPrefix: string, rate: Rate) => Promise<RateDecision | null>;
  /**
   * The customer a user id belongs to (itself when not a linked id, docs/identity.md), whose token
   * a browser key must present. Without it, or when it fails, the id's own.
   */
  customerOf?: (tenant: string, user: string) => Promise<string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key the request presented; null on public routes and while the API is open. */
    apiKey: ActiveKey | null;
    /** A user token presented with the request (user_token query parameter or x-user-token header). */
    userToken: string | undefined;
    /**
     * The shop the request acts for: the API key's (src/tenant.ts). A caller never chooses it by
     * a parameter; only an admin key serving several names one per request (x-recs-tenant).
     */
    tenant: string;
  }
}

const MIN_SECRET_LENGTH = 32;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  return BEARER.exec(request.headers.authorization ?? '')?.[1];
}

function denied(reply: FastifyReply, status: 401 | 403, code: string, message: string, field?: string): HttpError {
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="recs"');
  return new HttpError(status, code, message, field);
}

/** write implies read. */
export function grants(scope: Scope, needed: Scope): boolean {
  return scope === 'write' || needed === 'read';
}

/** A browser key (bound to origins) lives in a web page: anyone can read it out. */
const isBrowserKey = (key: ActiveKey | null) => key !== null && key.origins.length > 0;

async function auth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  const { settings } = options;
  if (settings.userTokenSecret !== '' && settings.userTokenSecret.length < MIN_SECRET_LENGTH) {
    throw new Error(`USER_TOKEN_SECRET must be at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -base64 32)`);
  }
  declareAccess(app);
  app.decorateRequest('apiKey', null);
  app.decorateRequest('userToken', undefined);
  app.decorateRequest('tenant', DEFAULT_TENANT);
  // Each tenant's token secret, derived once (an HMAC) rather than on every personal request.
  const tokenSecrets = new Map<string, string>();
  const tokenSecretOf = (tenant: string) => {
    let secret = tokenSecrets.get(tenant);
    if (secret === undefined) tokenSecrets.set(tenant, (secret = tenantUserTokenSecret(settings.userTokenSecret, tenant)));
    return secret;
  };
  const ring = new KeyRing(options.loadKeys, settings.keyCacheMs, (err) => app.log.warn({ err }, 'could not re-read API keys: using the last ones read'));

  let wasOpen: boolean | undefined;
  /** auto mode: keys are required once one exists. Logs each change, the first one at startup. */
  function requiredGiven(keys: ReadonlyMap<string, ActiveKey>): boolean {
    const open = keys.size === 0;
    if (open !== wasOpen) {
      wasOpen = open;
      if (open) app.log.warn('AUTH_MODE=auto and no API key exists: the API is OPEN to anyone who can reach it; create a key (npm run keys -- create) to lock it');
      else app.log.info('AUTH_MODE=auto: an API key exists, so every non-public route requires one');
    }
    return !open;
  }
  const keysRequired = async (): Promise<boolean> => settings.mode === 'required' || requiredGiven(await ring.active());

  app.addHook('onReady', async () => {
    if (settings.mode === 'off') app.log.warn('AUTH_MODE=off: no route asks for an API key; anyone who can reach the API can read and write everything');
    else await keysRequired().catch((err: Error) => app.log.error({ err }, 'could not read the API keys at startup'));
  });

  // A callback hook: public routes and an open install (auto mode, no key, keys fresh in memory)
  // pass without a promise; everything else goes through guard().
  app.addHook('onRequest', (request, reply, done) => {
    const query = request.query as Record<string, unknown>;
    // A credential, not a route parameter: taken out before the route's schema sees the query.
    const token = query.user_token ?? request.headers['x-user-token'];
    if (query.user_token !== undefined) delete query.user_token;
    if (typeof token === 'string') request.userToken = token;
    if (settings.mode === 'off') return done();
    // No route matched: the 404 reveals nothing. CORS preflights never carry credentials.
    const access: Access = request.routeOptions.config.access ?? 'public';
    if (access === 'public' || request.method === 'OPTIONS') return done();
    const keys = settings.mode === 'auto' ? ring.fresh() : null;
    if (keys !== null && !requiredGiven(keys)) return done();
    guard(request, reply, access).then(() => done(), done);
  });

  async function guard(request: FastifyRequest, reply: FastifyReply, access: Scope): Promise<void> {
    if (!(await keysRequired())) return;
    const presented = presentedKey(request);
    if (presented === undefined) throw denied(reply, 401, 'api_key_required', 'send an API key in the x-api-key header or as Authorization: Bearer <key>');
    const key = await ring.find(presented);
    if (key === null) throw denied(reply, 401, 'invalid_api_key', 'unknown or revoked API key');
    request.apiKey = key;
    // The key's public prefix on every later line of this request, never the key.
    request.log = reply.log = request.log.child({ api_key: key.prefix });
    // A write its owners prove with their tokens may come from a page (checked in preHandler).
    const needed = isBrowserKey(key) && byOwners(request.routeOptions.config.personal) ? 'read' : access;
    if (!grants(key.scope, needed)) throw denied(reply, 403, 'insufficient_scope', `this key has scope "${key.scope}"; ${request.method} ${request.routeOptions.url} needs "${access}"`);
    if (isBrowserKey(key) && !key.origins.includes(request.headers.origin ?? '')) {
      throw denied(reply, 403, 'origin_not_allowed', 'this key may only be used from its allowed origins (Origin header)');
    }

    request.tenant = tenantOf(request, reply, key);
    const rate = key.rate ?? settings.defaultRate;
    // The counters live in Redis: while it is away, requests go unlimited (and are answered
    // degraded from memory) rather than all refused.
    // Per tenant: an admin key serving several shops has a budget in each.
    const decision = await options.consume(request.tenant, key.prefix, rate);
    if (decision !== null) {
      void reply.header('x-ratelimit-limit', rate.limit).header('x-ratelimit-remaining', decision.remaining);
      if (!decision.allowed) {
        void reply.header('retry-after', decision.resetSeconds);
        throw new HttpError(429, 'rate_limited', `this key may make ${formatRate(rate)} requests: retry in ${decision.resetSeconds} s`);
      }
    }
  }

  // Personal data, wherever the user id comes from: the route says whose (access.ts). A
  // server-side key speaks for the shop's backend; a browser key needs the token of the customer
  // the user belongs to; a signed URL carries its own proof; an open install (AUTH_MODE off, or
  // auto with no key) asks nothing, as it asks no key.
  app.addHook('preHandler', (request, reply, done) => {
    const personal = request.routeOptions.config.personal ?? 'none';
    if (personal === 'none') return done();
    if (personal === 'many-users') {
      if (isBrowserKey(request.apiKey))
        return done(denied(reply, 403, 'server_key_required', `${request.method} ${request.routeOptions.url} answers for several users: only a server-side API key may call it`));
      return done();
    }
    if (byOwners(personal)) {
      if (!isBrowserKey(request.apiKey)) return done();
      try {
        const secret = tokenSecretOf(request.tenant);
        for (const owner of personal.owners(request)) checkUserToken(reply, owner.token, owner.user, secret, owner.field);
        return done();
      } catch (err) {
        return done(err as Error);
      }
    }
    const user = personal.user(request);
    if (user === undefined) return done();
    if (personal.signature !== undefined) {
      const check = personal.signature(request);
      if (check.ok) return done();
      return done(
        check.reason === 'expired'
          ? new HttpError(410, 'url_expired', 'this signed URL has expired', 'exp')
          : new HttpError(403, 'invalid_signature', "sig does not match this URL's user and parameters", 'sig'),
      );
    }
    if (!isBrowserKey(request.apiKey)) return done();
    // A linked id's data is its customer's: only the customer's token reads it. While that cannot
    // be told (both stores away), nothing of anyone is read either: the id's own token is checked.
    const customer = options.customerOf?.(request.tenant, user).catch(() => null) ?? Promise.resolve(user);
    const secret = tokenSecretOf(request.tenant);
    customer.then((found) => checkUserToken(reply, request.userToken, found ?? user, secret)).then(() => done(), done);
  });
}

/**
 * The tenant a key acts for: its one tenant; an admin key serving several (or every: '*') names
 * the one of each request in x-recs-tenant. A header naming another tenant than the key's is refused.
 */
function tenantOf(request: FastifyRequest, reply: FastifyReply, key: ActiveKey): string {
  const header = request.headers['x-recs-tenant'];
  const asked = typeof header === 'string' && header !== '' ? header : undefined;
  const [only] = key.tenants;
  if (key.tenants.length === 1 && only !== ALL_TENANTS) {
    if (asked !== undefined && asked !== only) throw denied(reply, 403, 'tenant_not_allowed', `this key serves tenant "${only}" only`, 'x-recs-tenant');
    return only;
  }
  if (asked === undefined) throw new HttpError(400, 'tenant_required', `this key serves several tenants: name one in the x-recs-tenant header (${key.tenants.join(', ')})`, 'x-recs-tenant');
  if (!TENANT_ID.test(asked)) throw new HttpError(400, 'invalid_request', 'x-recs-tenant is not a tenant id', 'x-recs-tenant');
  if (!key.tenants.includes(ALL_TENANTS) && !key.tenants.includes(asked)) throw denied(reply, 403, 'tenant_not_allowed', `this key does not serve tenant "${asked}"`, 'x-recs-tenant');
  return asked;
}

/**
 * A browser key reads a user's data only with a token the shop's backend signed for that user
 * with its tenant's secret (user-token.ts); `field` is where the token came from (a write's second
 * user has a field of their own).
 */
function checkUserToken(reply: FastifyReply, token: string | undefined, user: string, secret: string, field = 'user_token'): void {
  if (token === undefined) {
    throw denied(reply, 401, 'user_token_required', `a browser (origin-restricted) key needs ${field}, signed by the shop backend, to read or act for a user`, field);
  }
  if (secret === '') throw denied(reply, 403, 'invalid_user_token', 'user tokens are not enabled on this server (USER_TOKEN_SECRET is not set)', field);
  const check = verifyUserToken(token, user, secret);
  if (check.ok) return;
  if (check.reason === 'expired') throw denied(reply, 401, 'user_token_expired', `${field} has expired: get a new one from the shop backend`, field);
  throw denied(reply, 403, 'invalid_user_token', `${field} is not valid for this user`, field);
}

export const authPlugin = fp(auth, { name: 'recs-auth', fastify: '5.x' });
