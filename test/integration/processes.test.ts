// More than one API process on one port: the real server started with API_WORKERS=2 (node:cluster)
// as a child process, and traffic through a model swap. Each answer comes whole from one version;
// a worker never goes back to the old version once it served the new one; every worker serves the
// new one for every request sent SERVING_MODEL_REFRESH_MS (plus a margin for one Redis read) after
// the swap, so that is how long two workers may differ. A worker that dies is replaced and the
// port keeps answering; SIGTERM stops them all.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Agent, get, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { addPurchases, buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const REFRESH_MS = 500;
const URLS = [
  '/v1/recommendations/collaborative?item=a2&limit=6',
  '/v1/recommendations/collaborative?item=c1&item=b2&limit=6',
  '/v1/recommendations/same-brand?item=b3&limit=6',
  '/v1/recommendations/popular?limit=6',
];

interface Answer {
  url: number;
  worker: string;
  version: number;
  ids: string[];
  titles: string[];
  sentAt: number;
  doneAt: number;
}

describe('API_WORKERS=2: two processes on one port, across a model swap', () => {
  let s: TestServices;
  let server: ReturnType<typeof spawn>;
  let log = '';
  let base = '';
  const exited = () => new Promise<number | null>((resolve) => (server.exitCode !== null ? resolve(server.exitCode) : server.once('exit', resolve)));
  const until = async (what: string, condition: () => boolean | Promise<boolean>, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (!(await condition())) {
      assert.ok(Date.now() < deadline, `${what} (within ${ms / 1000} s)\n${log.slice(-2000)}`);
      await sleep(20);
    }
  };
  /** Pids of the workers the primary reported listening, by worker id. */
  const workerPids = () => new Map([...log.matchAll(/"worker":(\d+),"workerPid":(\d+),"msg":"API worker listening"/g)].map((m) => [m[1], Number(m[2])]));

  before(async () => {
    s = await startTestServices();
    await loadShop(s.pool, ' #1');
    await buildShop(s);
    server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: s.databaseUrl,
        REDIS_PREFIX: s.config.redisPrefix,
        HOST: '127.0.0.1',
        PORT: '0',
        API_WORKERS: '2',
        SERVING_MODEL_REFRESH_MS: String(REFRESH_MS),
        LOG_LEVEL: 'info',
        // Room for a busy test machine: this test is about versions, not about failing fast.
        REDIS_COMMAND_TIMEOUT_MS: '2000',
        SERVING_DEADLINE_MS: '5000',
      },
    });
    server.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    server.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    await until('two workers listen on one port', () => workerPids().size === 2 && /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.test(log));
    base = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(log)![1];
    assert.equal(new Set([...log.matchAll(/Server listening at (http:\/\/\S+?)"/g)].map((m) => m[1])).size, 1, 'the same port');
  });
  after(async () => {
    keepAlive.destroy();
    if (server.exitCode === null) {
      server.kill('SIGKILL');
      await exited();
    }
    await s.close();
  });

  // Lanes keep their connection (each sticks to the worker it was handed to); `false`: a new one per request.
  const keepAlive = new Agent({ keepAlive: true });
  const ask = async (url: number, agent: Agent | false = keepAlive): Promise<Answer> => {
    const sentAt = performance.now();
    const res = await new Promise<IncomingMessage>((resolve, reject) => get(base + URLS[url], { agent }, resolve).once('error', reject));
    let text = '';
    for await (const chunk of res) text += chunk;
    assert.equal(res.statusCode, 200, text);
    const body = JSON.parse(text) as { model_version: number; items: { id: string; title: string }[] };
    return {
      url,
      worker: String(res.headers['x-recs-worker']),
      version: body.model_version,
      ids: body.items.map((i) => i.id),
      titles: body.items.map((i) => i.title),
      sentAt,
      doneAt: performance.now(),
    };
  };

  test('answers are whole from one version; workers differ for at most the refresh interval after a swap', async (t) => {
    const answers: Answer[] = [];
    let stop = false;
    const lanes = Promise.all(
      Array.from({ length: 6 }, async (_, lane) => {
        for (let i = lane; !stop; i++) answers.push(await ask(i % URLS.length));
      }),
    );
    try {
      await until('both workers answer', () => new Set(answers.map((a) => a.worker)).size === 2);
      const v1 = answers[0].version;
      await s.pool.query(`UPDATE products SET title = replace(title, ' #1', ' #2')`);
      await addPurchases(s.pool, { u11: ['c1', 'b2'], u12: ['c1', 'b2', 'a3'], u13: ['a2', 'c2'] });
      // When the new version went live: a watcher polling the pointer sees it within a few ms.
      let swapped = Infinity;
      let built = false;
      const build = buildShop(s).finally(() => {
        built = true;
      });
      const pointer = redisKeys(s.config.redisPrefix).current;
      while (swapped === Infinity && !built) {
        if (Number(await s.redis.get(pointer)) !== v1) swapped = performance.now();
        else await sleep(2);
      }
      const v2 = (await build).version;
      // The refresh interval, and as much again for the read of the pointer and a busy event loop.
      const bound = swapped + 2 * REFRESH_MS;
      await until('each worker answered well past the bound', () => ['1', '2'].every((w) => answers.filter((a) => a.worker === w && a.sentAt > bound).length >= 20));
      stop = true;
      await lanes;

      const suffix = new Map([
        [v1, ' #1'],
        [v2, ' #2'],
      ]);
      const idsOf = new Map<string, string>();
      for (const a of answers) {
        assert.ok(suffix.has(a.version), `version ${a.version}`);
        assert.ok(
          a.titles.every((title) => title.endsWith(suffix.get(a.version)!)),
          `worker ${a.worker}, v${a.version}: ${a.titles}`,
        );
        const key = `${a.url} v${a.version}`;
        idsOf.set(key, idsOf.get(key) ?? a.ids.join());
        assert.equal(a.ids.join(), idsOf.get(key), `${URLS[a.url]} as v${a.version}`);
      }
      assert.notEqual(idsOf.get(`0 v${v1}`), idsOf.get(`0 v${v2}`), 'the two versions answer differently');
      for (const worker of ['1', '2']) {
        const mine = answers.filter((a) => a.worker === worker);
        assert.deepEqual([...new Set(mine.map((a) => a.version))].sort(), [v1, v2].sort(), `worker ${worker} served both versions`);
        const firstNew = Math.min(...mine.filter((a) => a.version === v2).map((a) => a.doneAt));
        assert.ok(
          mine.every((a) => a.sentAt <= firstNew || a.version === v2),
          `worker ${worker} went back to v${v1}`,
        );
      }
      const late = answers.filter((a) => a.sentAt > bound && a.version !== v2);
      assert.deepEqual(
        late.map((a) => `worker ${a.worker} at +${Math.round(a.sentAt - swapped)} ms`),
        [],
        `v${v1} answered more than ${2 * REFRESH_MS} ms after the swap`,
      );
      const lastOld = (w: string) => Math.max(swapped, ...answers.filter((a) => a.worker === w && a.version === v1).map((a) => a.sentAt)) - swapped;
      const firstNewAt = (w: string) => Math.min(...answers.filter((a) => a.worker === w && a.version === v2).map((a) => a.sentAt)) - swapped;
      t.diagnostic(
        `${answers.length} answers; after the swap, worker 1 served v${v1} until +${Math.round(lastOld('1'))} ms and v${v2} from +${Math.round(firstNewAt('1'))} ms; worker 2 until +${Math.round(lastOld('2'))} ms, from +${Math.round(firstNewAt('2'))} ms (refresh interval ${REFRESH_MS} ms)`,
      );
    } finally {
      stop = true;
      await lanes.catch(() => undefined);
    }
  });

  test('a worker that dies is replaced; the port keeps answering; SIGTERM stops every process', async () => {
    const [deadId, deadPid] = [...workerPids()][0];
    process.kill(deadPid, 'SIGKILL');
    await until('a new worker replaced it', () => workerPids().size === 3 && /API worker died: starting another/.test(log));
    const workers = new Set<string>();
    await until('both workers answer again', async () => {
      // A request on a connection the dead worker held fails; the next one goes to a live worker.
      const answer = await ask(3, false).catch(() => null);
      if (answer !== null) workers.add(answer.worker);
      return workers.size === 2;
    });
    assert.ok(!workers.has(deadId));
    server.kill('SIGTERM');
    assert.equal(await Promise.race([exited(), sleep(15_000, 'hung')]), 0);
    for (const pid of workerPids().values()) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
  });
});
