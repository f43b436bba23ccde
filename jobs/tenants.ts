// CLI: tenants (shops) and their settings.
//   tsx jobs/tenants.ts list
//   tsx jobs/tenants.ts set ID [--product-url-template URL] [--image-url-template URL]
//   tsx jobs/tenants.ts user-token-secret ID
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { tenantUserTokenSecret } from '../src/auth/user-token.ts';
import { checkTemplate } from '../src/recommend/links.ts';
import { migrate } from '../src/store/pg/migrate.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { listTenants, readTenantLinks, setTenantLinks, type TenantLinkSettings } from '../src/store/pg/tenants.ts';
import { checkTenantId } from '../src/tenant.ts';
import { runCli } from './lib/cli.ts';

const USAGE = `usage: tsx jobs/tenants.ts <command>
  list     every tenant and its link templates
  set ID [--product-url-template URL] [--image-url-template URL]
           creates the tenant if new; sets the product page and image URLs of items whose
           catalog row has none ({id} = the URL-encoded item id). '' = back to the server's
           PRODUCT_URL_TEMPLATE / IMAGE_URL_TEMPLATE. Servers see a change within
           LINK_TEMPLATES_REFRESH_MS.
  user-token-secret ID
           the secret this shop's backend signs its user tokens with (derived from the
           server's USER_TOKEN_SECRET; give each shop its own, never USER_TOKEN_SECRET itself)`;

const describe = (id: string, l: TenantLinkSettings) => `${id.padEnd(20)} product ${l.product ?? '(server default)'}  image ${l.image ?? '(server default)'}`;

/** '' clears (the server default), a template is checked, absent leaves as is. */
const templateOption = (value: string | undefined, name: string) => (value === undefined ? undefined : value === '' ? null : checkTemplate(value, name));

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'product-url-template': { type: 'string' }, 'image-url-template': { type: 'string' }, help: { type: 'boolean' } },
  });
  const [command, id] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const config = loadConfig();
  if (command === 'user-token-secret') {
    if (!id) throw new Error(`user-token-secret needs a tenant id\n${USAGE}`);
    if (config.auth.userTokenSecret === '') throw new Error('USER_TOKEN_SECRET is not set: user tokens are off');
    console.log(tenantUserTokenSecret(config.auth.userTokenSecret, checkTenantId(id)));
    return;
  }
  const pool = createPool(config.databaseUrl, 1);
  try {
    await migrate(pool);
    switch (command) {
      case 'list':
        for (const tenant of await listTenants(pool)) console.log(describe(tenant, await readTenantLinks(pool, tenant)));
        break;
      case 'set': {
        if (!id) throw new Error(`set needs a tenant id\n${USAGE}`);
        const links = await setTenantLinks(pool, checkTenantId(id), {
          product: templateOption(values['product-url-template'], '--product-url-template'),
          image: templateOption(values['image-url-template'], '--image-url-template'),
        });
        console.log(describe(id, links));
        break;
      }
      default:
        throw new Error(`unknown command "${command}"\n${USAGE}`);
    }
  } finally {
    await pool.end();
  }
}

await runCli(main);
