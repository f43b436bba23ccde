// A tenant is a shop: one service serves several, and nothing of one may appear in another's
// answers. The API key decides the tenant of a request (src/auth/plugin.ts); jobs take --tenant.
// A single-shop install never names one: it is the `default` tenant.
export const DEFAULT_TENANT = 'default';

/** In an admin key's tenants: it may act for every tenant. */
export const ALL_TENANTS = '*';

/** Lower-case letters, digits, `_` and `-`: safe in Redis keys, metric labels and file names. */
export const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function checkTenantId(id: string): string {
  if (!TENANT_ID.test(id)) throw new Error(`bad tenant id "${id}": 1 to 63 of a-z, 0-9, _ and -, starting with a letter or digit`);
  return id;
}
