// Private Redis, Redis Cluster and PostgreSQL servers for the fault tests: real processes that a
// test file starts, stops and restarts at will, on free loopback ports, in a temporary directory,
// so the shared services of the other test files are never touched. PostgreSQL refuses to run as root:
// as root its commands run as the `postgres` user (as scripts/services.sh does).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../bench/lib/processes.ts';
import { servicesExport } from './cluster.ts';

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;

export interface OwnRedis {
  url: string;
  /** A clean shutdown (SIGTERM: the append-only file is flushed) or a crash (SIGKILL). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A redis-server with an append-only file, so a restart keeps the data (a restart, not a loss),
 * and with DEBUG enabled (DEBUG SLEEP makes it slow).
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'recs-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--enable-debug-command', 'yes'];
  let child: ChildProcess | null = null;
  const kill = () => child?.kill('SIGKILL');
  process.once('exit', kill);

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let log = '';
      server.stdout!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Ready to accept connections')) {
          server.stdout!.removeAllListeners('data');
          server.stdout!.resume();
          resolve();
        }
      });
      server.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${log}`)));
      child = server;
    });
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const server = child;
    if (server === null || server.exitCode !== null) return;
    child = null;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill(signal);
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    async close() {
      await stop('SIGKILL');
      process.removeListener('exit', kill);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface OwnCluster {
  /** Seeds, as REDIS_CLUSTER_NODES takes them. */
  nodes: string;
  close(): Promise<void>;
}

const listens = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer().once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

/**
 * A Redis Cluster of its own (3 masters, 3 replicas), made by scripts/services.sh in a temporary
 * directory on six free ports (and their cluster bus ports, 10000 above).
 */
export async function startOwnCluster(): Promise<OwnCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'recs-cluster-'));
  let base = 0;
  for (let tries = 0; base === 0; tries++) {
    if (tries === 50) throw new Error('no six free ports (and bus ports) for a private Redis Cluster');
    const candidate = 20000 + Math.floor(Math.random() * 9990);
    const ports = Array.from({ length: 6 }, (_, i) => candidate + i).flatMap((p) => [p, p + 10000]);
    if ((await Promise.all(ports.map(listens))).every(Boolean)) base = candidate;
  }
  const pids = async () => {
    const files = (await readdir(join(dir, 'cluster')).catch(() => [])).filter((f) => f.endsWith('.pid'));
    return Promise.all(files.map(async (f) => Number(await readFile(join(dir, 'cluster', f), 'utf8'))));
  };
  const kill = async () => {
    for (const pid of await pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  };
  try {
    const nodes = await servicesExport('REDIS_CLUSTER_NODES', { RECS_REDIS_CLUSTER: '1', RECS_SERVICES_DIR: dir, RECS_CLUSTER_PORT: String(base), REDIS_CLUSTER_NODES: '' });
    return {
      nodes,
      async close() {
        await kill();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await kill();
    throw err;
  }
}

export interface OwnPostgres {
  url: string;
  /** fast: disconnects everyone and shuts down cleanly; immediate: as a crash would. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** The postmaster's process id (SIGSTOP it, and nobody can connect). */
  pid(): number;
  close(): Promise<void>;
}

function pgBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl'))) : [];
  if (versions.length === 0) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  return join(base, versions.sort((a, b) => Number(a) - Number(b)).at(-1)!, 'bin');
}

/**
 * A fresh cluster (initdb, a fraction of a second with fsync off), user `recs`, trust auth on
 * loopback; `settings` are more `-c name=value` server settings.
 */
export async function startOwnPostgres(settings: string[] = []): Promise<OwnPostgres> {
  const bin = pgBin();
  const dir = await mkdtemp(join(tmpdir(), 'recs-pg-'));
  if (asRoot) await chown(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const command = (tool: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args]);
  const pg = (tool: string, args: string[]) => run(...command(tool, args));
  const data = join(dir, 'data');
  const port = await freePort();
  await pg('initdb', ['-D', data, '-U', 'recs', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const options = [`-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c full_page_writes=off`, ...settings.map((s) => `-c ${s}`)].join(' ');
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', options, 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await pg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']).catch(() => undefined);
  };
  // A test process that dies must not leave a server behind.
  const kill = () => {
    try {
      execFileSync(...command('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']), { stdio: 'ignore' });
    } catch {
      /* not running */
    }
  };
  process.once('exit', kill);
  await start();
  return {
    url: `postgres://recs@127.0.0.1:${port}/postgres`,
    stop,
    start,
    pid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    async close() {
      await stop('immediate');
      process.removeListener('exit', kill);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
