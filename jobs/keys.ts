// CLI: API keys. Only a hash of each key is stored, so `create` prints the key once.
//   tsx jobs/keys.ts create --name NAME [--tenant ID]... [--scope read|write] [--origin URL]... [--rate N/s|N/min|N/h]
//   tsx jobs/keys.ts list
//   tsx jobs/keys.ts revoke PREFIX
import { parseArgs } from 'node:util';
import { SCOPES, type Scope } from '../src/auth/api-key.ts';
import { formatRate, parseRate } from '../src/auth/rate.ts';
import { loadConfig } from '../src/config.ts';
import { activeApiKeys, createApiKey, listApiKeys, revokeApiKey, type ApiKeyRow } from '../src/store/pg/api-keys.ts';
import { migrate } from '../src/store/pg/migrate.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { DEFAULT_TENANT } from '../src/tenant.ts';
import { runCli } from './lib/cli.ts';

const USAGE = `usage: tsx jobs/keys.ts <command>
  create --name NAME [--tenant ID]... [--scope read|write] [--origin URL]... [--rate N/s|N/min|N/h]
                 make a key and print it (once: only its hash is stored).
                 --tenant: the shop the key serves (default: default). Repeated, or '*': an admin
                 key for several shops, whose requests name theirs in the x-recs-tenant header.
                 read: recommendations and email blocks; write: also events, experiments, users.
                 --origin (repeatable) restricts a browser (widget) key to those origins; such a
                 key is read-only and needs a user_token for personal blocks.
                 --rate overrides the server's default rate limit for this key.
  list           every key: prefix, scope, status, rate, name, origins
  revoke PREFIX  revoke a key (takes effect within AUTH_KEY_CACHE_MS on every server)`;

function describe(k: ApiKeyRow): string {
  return [
    k.prefix,
    `tenant ${k.tenants.join(',')}`.padEnd(16),
    k.scope.padEnd(5),
    (k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active').padEnd(32),
    `rate ${k.rate ? formatRate(k.rate) : 'default'}`.padEnd(16),
    `"${k.name}"`,
    k.origins.length ? `origins ${k.origins.join(' ')}` : 'any origin (server-side)',
    `created ${k.createdAt.toISOString()}`,
  ].join('  ');
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scope: { type: 'string', default: 'read' },
      origin: { type: 'string', multiple: true, default: [] },
      tenant: { type: 'string', multiple: true, default: [DEFAULT_TENANT] },
      rate: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const pool = createPool(loadConfig().databaseUrl, 1);
  try {
    await migrate(pool);
    switch (command) {
      case 'create': {
        if (!values.name) throw new Error(`create needs --name\n${USAGE}`);
        if (!(SCOPES as readonly string[]).includes(values.scope)) throw new Error(`--scope must be one of ${SCOPES.join(', ')}, got "${values.scope}"`);
        const { key, row } = await createApiKey(pool, {
          name: values.name,
          tenants: values.tenant,
          scope: values.scope as Scope,
          origins: values.origin,
          rate: values.rate === undefined ? null : parseRate(values.rate),
        });
        if ((await activeApiKeys(pool)).length === 1) console.log('note: the only active key: servers in AUTH_MODE=auto now require a key on every non-public route');
        console.log(`created ${describe(row)}\nthe key, shown this once (store it now):\n${key}`);
        break;
      }
      case 'list': {
        const keys = await listApiKeys(pool);
        console.log(keys.length === 0 ? 'no API keys' : keys.map(describe).join('\n'));
        break;
      }
      case 'revoke':
        if (!arg) throw new Error(`revoke needs a key prefix\n${USAGE}`);
        if (!(await revokeApiKey(pool, arg))) throw new Error(`no active key "${arg}"`);
        console.log(`revoked ${arg}`);
        break;
      default:
        throw new Error(`unknown command "${command}"\n${USAGE}`);
    }
  } finally {
    await pool.end();
  }
}

await runCli(main);
