// Numbers in a query string are decimal digits, and finite. Ajv's type coercion, which turns the
// strings into numbers before the schema checks them, takes "Infinity" and "1e400" (both become
// Infinity, which passes `integer` and `maximum`), "0x10" and " 10" as numbers: a limit of
// Infinity made some blocks answer 500 and others 500 items. This hook checks the raw strings
// of every numeric query parameter a route's schema declares, before Ajv sees them.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.ts';

const INTEGER = /^-?(0|[1-9]\d{0,14})$/;
const DECIMAL = /^-?(0|[1-9]\d{0,14})(\.\d{1,15})?$/;

type Kind = 'integer' | 'number';
type Properties = Record<string, { type?: string | string[]; items?: { type?: string } }>;

const numericParams = new WeakMap<object, [name: string, kind: Kind][]>();

function numericOf(schema: { properties?: Properties }): [string, Kind][] {
  let params = numericParams.get(schema);
  if (params === undefined) {
    params = [];
    for (const [name, p] of Object.entries(schema.properties ?? {})) {
      const type = p.type === 'array' ? p.items?.type : p.type;
      if (type === 'integer' || type === 'number') params.push([name, type]);
    }
    numericParams.set(schema, params);
  }
  return params;
}

/** A preValidation hook (callback style: it runs on every request). */
export function strictQueryNumbers(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  const schema = request.routeOptions.schema?.querystring as { properties?: Properties } | undefined;
  if (schema === undefined) {
    done();
    return;
  }
  const query = request.query as Record<string, string | string[] | undefined>;
  for (const [name, kind] of numericOf(schema)) {
    const raw = query[name];
    if (raw === undefined) continue;
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (!(kind === 'integer' ? INTEGER : DECIMAL).test(value)) {
        const expected = kind === 'integer' ? 'a whole number in decimal digits' : 'a decimal number (digits, an optional point and fraction)';
        done(new HttpError(400, 'invalid_request', `querystring/${name} must be ${expected}, got "${value}"`, name));
        return;
      }
    }
  }
  done();
}
