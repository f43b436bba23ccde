// What each route declares about itself, in its own `config`, for the auth hooks to enforce:
//   access    who may call it at all: 'public', or an API key of scope 'read' or 'write';
//   personal  whose data the answer reveals or is personalised by, wherever the id comes from
//             (query, body, path): the hooks then demand that user's token from a browser key,
//             checked for the customer the id belongs to (docs/identity.md); or the users a write
//             acts for, each of whom a browser key proves with their own token.
// A route that declares neither cannot be registered (declareAccess), so a new route cannot
// forget the rule; test/integration/privacy-routes.test.ts walks every route to prove it.
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Scope } from './api-key.ts';
import type { SignatureCheck } from './signing.ts';

export type Access = 'public' | Scope;

/**
 * - 'none': the answer is the same whoever asks about whom (catalog, popularity, aggregates);
 * - 'many-users': about several users at once (a batch): server-side keys only;
 * - user(): the one user the answer is about (undefined: not personal this time). A browser
 *   (origin-bound) key needs the token of the customer that user belongs to (the user's own when
 *   not a linked id), unless `signature` vouches for them (a signed URL, for the user it names);
 * - owners(): the users a write acts for, with the token presented for each. A server-side key
 *   needs the route's scope; a browser key (read scope only) may make the write by presenting
 *   each user's own token, proof that the page holds both (linking ids: src/routes/identities.ts).
 */
export type Personal =
  | 'none'
  | 'many-users'
  | { user(request: FastifyRequest): string | undefined; signature?(request: FastifyRequest): SignatureCheck }
  | { owners(request: FastifyRequest): Owner[] };

/** A user a write acts for, and the token presented for them (`field`: where, for the error). */
export interface Owner {
  user: string;
  token: string | undefined;
  field: string;
}

/** Whether a browser key may call the route with each owner's token (src/auth/plugin.ts). */
export const byOwners = (personal: Personal | undefined): personal is { owners(request: FastifyRequest): Owner[] } => typeof personal === 'object' && 'owners' in personal;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    personal?: Personal;
  }
  interface FastifyInstance {
    /** Every route registered, with its declaration: what the privacy test walks. */
    declaredRoutes: DeclaredRoute[];
  }
}

export interface DeclaredRoute {
  method: string;
  url: string;
  access: Access;
  personal: Personal;
  schema: RouteOptions['schema'];
}

/** The usual declaration of a route personalised by `?user=`. */
export const userInQuery: Personal = { user: (request) => (request.query as { user?: string }).user };

// Routes added by plugins we do not write: the OpenAPI UI (static) and CORS preflights (which
// never carry credentials). Public, and about no one.
const PLUGIN_ROUTES = /^\/docs(\/|$)/;
const isPluginRoute = (route: RouteOptions) => PLUGIN_ROUTES.test(route.url) || route.method === 'OPTIONS';

/** Refuses to register a route without `config.access` and `config.personal`; lists those registered. */
export function declareAccess(app: FastifyInstance): void {
  const routes: DeclaredRoute[] = [];
  app.decorate('declaredRoutes', routes);
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config ??= {}) as { access?: Access; personal?: Personal };
    if (isPluginRoute(route) && config.access === undefined) {
      config.access = 'public';
      config.personal = 'none';
    }
    if (config.access === undefined || config.personal === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} must declare config.access and config.personal (src/auth/access.ts)`);
    }
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access: config.access, personal: config.personal, schema: route.schema });
  });
}
