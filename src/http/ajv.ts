import { instantFormat } from './instant.ts';

/**
 * Request validation: unknown fields are errors, defaults are applied, `?a=1&a=2` becomes an
 * array; the `instant` format for timestamps (src/http/instant.ts).
 */
export const AJV_OPTIONS = {
  customOptions: { removeAdditional: false, coerceTypes: 'array' as const, useDefaults: true, allErrors: false },
  plugins: [instantFormat],
};
