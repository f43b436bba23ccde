// Which routes need which scope. Decided on the matched route pattern, not the raw URL, so no
// spelling of a path can reach a route under another route's rule.
import type { Scope } from './api-key.ts';

export type Access = 'public' | Scope;

const under = (route: string, base: string) => route === base || route.startsWith(`${base}/`);

// Click redirects (/v1/r) are opened from emails and carry their own signature.
const PUBLIC = ['/health', '/ready', '/docs', '/v1/r'];
const READ = ['/v1/recommendations', '/v1/email'];
// Signed email URLs carry their own signature (exp + sig over the user and mail_id).
const SIGNED = '/v1/email/signed';
// POSTs that only read: an ESP's batch of email blocks.
const READ_POSTS = ['/v1/email/batch'];

export function accessFor(method: string, route: string | undefined, metricsRequireKey: boolean): Access {
  // No route: the 404 reveals nothing. CORS preflights never carry credentials.
  if (route === undefined || method === 'OPTIONS') return 'public';
  if (route === '/metrics') return metricsRequireKey ? 'read' : 'public';
  if (PUBLIC.some((base) => under(route, base))) return 'public';
  const reading = method === 'GET' || method === 'HEAD';
  if (reading && under(route, SIGNED)) return 'public';
  if ((reading && READ.some((base) => under(route, base))) || (method === 'POST' && READ_POSTS.includes(route))) return 'read';
  // Events, experiments, users, and any route added later without a rule: the strictest scope.
  return 'write';
}

/** write implies read. */
export function grants(scope: Scope, needed: Scope): boolean {
  return scope === 'write' || needed === 'read';
}
