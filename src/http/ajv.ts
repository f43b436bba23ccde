import { instantFormat } from './instant.ts';

/**
 * Request validation: unknown fields are errors, defaults are applied, `?a=1&a=2` becomes an
 * array; `date-time` fields are real instants (src/http/instant.ts).
 */
export const AJV_OPTIONS = {
  customOptions: { removeAdditional: false, coerceTypes: 'array' as const, useDefaults: true, allErrors: false },
  // After ajv-formats (which @fastify/ajv-compiler adds after `plugins`), so its date-time is replaced.
  onCreate: instantFormat,
};
