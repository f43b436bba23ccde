// The Redis Cluster the tests run on: the one of REDIS_CLUSTER_NODES, else the local one of
// scripts/services.sh (3 masters, 3 replicas), which the script starts, or reuses when it is up.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SERVICES = new URL('../../scripts/services.sh', import.meta.url).pathname;

/** What scripts/services.sh exported as `name`, run with `env`. */
export async function servicesExport(name: string, env: Record<string, string | undefined>): Promise<string> {
  const { stdout } = await run('bash', [SERVICES], { env: { ...process.env, ...env } });
  const value = new RegExp(`^export ${name}='([^']*)'$`, 'm').exec(stdout)?.[1];
  if (value === undefined) throw new Error(`scripts/services.sh exported no ${name}:\n${stdout}`);
  return value;
}

let shared: Promise<string> | undefined;

/** Seeds (host:port,...) of the shared cluster. */
export function sharedClusterNodes(): Promise<string> {
  shared ??= process.env.REDIS_CLUSTER_NODES ? Promise.resolve(process.env.REDIS_CLUSTER_NODES) : servicesExport('REDIS_CLUSTER_NODES', { RECS_REDIS_CLUSTER: '1' });
  return shared;
}
