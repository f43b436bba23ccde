// Every request passes one onRequest hook: API key → scope → origin → rate limit → user token
// for personal reads. Registered with fastify-plugin semantics (skip-override), so the hook
// guards the routes of every plugin of the app.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app.ts';
import { HttpError, isUnavailable } from '../errors.ts';
import { activeApiKeys } from '../store/api-keys.ts';
import { KeyRing, type ActiveKey } from './key-ring.ts';
import type { Scope } from './api-key.ts';
import { accessFor, grants } from './policy.ts';
import { formatRate } from './rate.ts';
import { consume } from './rate-limit.ts';
import type { AuthSettings } from './settings.ts';
import { verifyUserToken } from './user-token.ts';

export interface AuthOptions extends AppDeps {
  settings: AuthSettings;
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

/** A widget key reads a user's blocks only with a token the shop's backend signed for that user. */
function checkUserToken(reply: FastifyReply, token: unknown, user: string, secret: string): void {
  if (token === undefined) {
    throw denied(reply, 401, 'user_token_required', 'a browser (origin-restricted) key needs user_token, signed by the shop backend, to read a user\'s recommendations', 'user_token');
  }
  if (secret === '') throw denied(reply, 403, 'invalid_user_token', 'user tokens are not enabled on this server (USER_TOKEN_SECRET is not set)', 'user_token');
  const check = verifyUserToken(String(token), user, secret);
  if (check.ok) return;
  if (check.reason === 'expired') throw denied(reply, 401, 'user_token_expired', 'user_token has expired: get a new one from the shop backend', 'user_token');
  throw denied(reply, 403, 'invalid_user_token', 'user_token is not valid for this user', 'user_token');
}

async function auth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  const { settings, redis } = options;
  if (settings.userTokenSecret !== '' && settings.userTokenSecret.length < MIN_SECRET_LENGTH) {
    throw new Error(`USER_TOKEN_SECRET must be at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -base64 32)`);
  }
  const ring = new KeyRing(() => activeApiKeys(options.pool), settings.keyCacheMs, (err) => app.log.warn({ err }, 'could not re-read API keys: using the last ones read'));

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
    const userToken = query.user_token;
    delete query.user_token;
    if (settings.mode === 'off') return done();
    const access = accessFor(request.method, request.routeOptions.url, settings.metricsRequireKey);
    if (access === 'public') return done();
    const keys = settings.mode === 'auto' ? ring.fresh() : null;
    if (keys !== null && !requiredGiven(keys)) return done();
    guard(request, reply, access, userToken).then(() => done(), done);
  });

  async function guard(request: FastifyRequest, reply: FastifyReply, access: Scope, userToken: unknown): Promise<void> {
    if (!(await keysRequired())) return;
    const presented = presentedKey(request);
    if (presented === undefined) throw denied(reply, 401, 'api_key_required', 'send an API key in the x-api-key header or as Authorization: Bearer <key>');
    const key = await ring.find(presented);
    if (key === null) throw denied(reply, 401, 'invalid_api_key', 'unknown or revoked API key');
    // The key's public prefix on every later line of this request, never the key.
    request.log = reply.log = request.log.child({ api_key: key.prefix });
    if (!grants(key.scope, access)) throw denied(reply, 403, 'insufficient_scope', `this key has scope "${key.scope}"; ${request.method} ${request.routeOptions.url} needs "${access}"`);
    const restricted = key.origins.length > 0;
    if (restricted && !key.origins.includes(request.headers.origin ?? '')) {
      throw denied(reply, 403, 'origin_not_allowed', 'this key may only be used from its allowed origins (Origin header)');
    }

    const rate = key.rate ?? settings.defaultRate;
    // The counters live in Redis: while it is away, requests go unlimited (and are answered
    // degraded from memory) rather than all refused.
    const decision = await consume(redis, options.keys.rateLimit(key.prefix), rate).catch((err: Error) => {
      if (!isUnavailable(err)) throw err;
      request.log.warn({ err }, 'Redis unavailable: rate limit not applied');
      return null;
    });
    if (decision !== null) {
      void reply.header('x-ratelimit-limit', rate.limit).header('x-ratelimit-remaining', decision.remaining);
      if (!decision.allowed) {
        void reply.header('retry-after', decision.resetSeconds);
        throw new HttpError(429, 'rate_limited', `this key may make ${formatRate(rate)} requests: retry in ${decision.resetSeconds} s`);
      }
    }

    const user = (request.query as Record<string, unknown>).user;
    if (restricted && user !== undefined) checkUserToken(reply, userToken, String(user), settings.userTokenSecret);
  }
}

/** fastify-plugin semantics without the dependency: the hooks apply to every route of the app. */
const AUTH_PLUGIN_NAME = 'recs-auth';
export const authPlugin = Object.assign(auth, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: AUTH_PLUGIN_NAME,
  [Symbol.for('plugin-meta')]: { name: AUTH_PLUGIN_NAME },
});
