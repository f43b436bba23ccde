import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Outages } from '../outage.ts';

/** A client error with the field at fault, rendered as `{ error, message, field }`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

// Errors that mean a backing service is down or too slow: the client should retry, so 503, not
// 500. 57014: a statement timeout; ENOMODEL: no model in Redis (src/store/redis/rec-store.ts); the messages
// are ioredis's fail-fast errors (src/store/redis/client.ts), a Redis Cluster's included (not
// ready, a failover under way: redirections exhausted, a node's slots moving or down).
const UNAVAILABLE_CODES = new Set(['ENOMODEL', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '57014', '08006', '08001']);
const REDIS_MESSAGES =
  /Connection is closed|max retries per request|Command timed out|Stream isn't writeable|Cluster isn't ready|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|READONLY|MASTERDOWN) /i;
const UNAVAILABLE_MESSAGES = new RegExp(`Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Query read timeout|${REDIS_MESSAGES.source}`, 'i');

export function isUnavailable(err: Error & { code?: string }): boolean {
  return (err.code !== undefined && UNAVAILABLE_CODES.has(err.code)) || UNAVAILABLE_MESSAGES.test(err.message);
}

/** "body/events/0/type" → "events[0].type": the field a client must fix. */
function fieldOf(err: FastifyError): string | undefined {
  const first = err.validation?.[0];
  if (!first) return undefined;
  const path = first.instancePath
    .replace(/^\//, '')
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  const missing = (first.params as { missingProperty?: string }).missingProperty;
  const extra = (first.params as { additionalProperty?: string }).additionalProperty;
  const leaf = missing ?? extra;
  return leaf ? (path ? `${path}.${leaf}` : leaf) : path || err.validationContext;
}

/** Which service an unavailability error is about, for the outage log. */
export function serviceOf(err: Error & { code?: string }): keyof Outages {
  return err.code === 'ENOMODEL' || REDIS_MESSAGES.test(err.message) ? 'redis' : 'postgres';
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's outage logs (src/outage.ts); an app without them logs each 503. */
    outages?: Outages;
  }
}

/** Every error answer in one format: `{ error, message, field? }`; 503 for a backing service away (logged as outages, not per request). */
export function errorHandler(err: FastifyError & { code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof HttpError) {
    void reply.code(err.statusCode).send({ error: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) });
    return;
  }
  if (err.validation) {
    void reply.code(400).send({ error: 'invalid_request', message: err.message, field: fieldOf(err) });
    return;
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    void reply.code(err.statusCode).send({ error: err.code ?? 'bad_request', message: err.message });
    return;
  }
  if (isUnavailable(err)) {
    const outage = request.server.outages?.[serviceOf(err)];
    if (outage) outage.down(err, request.log);
    else request.log.warn({ err }, 'backing service unavailable');
    const noModel = err.code === 'ENOMODEL';
    void reply
      .code(503)
      .header('retry-after', '1')
      .header('cache-control', 'no-store')
      .send(noModel ? { error: 'no_model', message: err.message } : { error: 'unavailable', message: 'a backing service is unavailable, retry shortly' });
    return;
  }
  request.log.error({ err }, 'unhandled error');
  void reply.code(500).send({ error: 'internal', message: 'internal error' });
}

/** An unknown route or method: the same format as every other error. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
}
