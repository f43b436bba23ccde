// CLI: define, start, stop and report experiments. It calls the API's own routes in-process
// (no server, no Redis), so its validation, errors and numbers are exactly the API's.
//   tsx jobs/experiment.ts create FILE|-        a JSON definition, as POST /v1/experiments takes it
//   tsx jobs/experiment.ts list
//   tsx jobs/experiment.ts show ID
//   tsx jobs/experiment.ts start ID | stop ID
//   tsx jobs/experiment.ts report ID [--format text|json|html] [--out FILE] [--window-days N]
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { AJV_OPTIONS } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { errorHandler } from '../src/errors.ts';
import type { Variant } from '../src/experiments/definition.ts';
import { liftInterval, money, percent, pValue, signedPercent } from '../src/experiments/format.ts';
import type { LiftJson, Report } from '../src/experiments/report.ts';
import { experimentRoutes } from '../src/routes/experiments.ts';
import { migrate } from '../src/store/migrate.ts';
import { createPool } from '../src/store/postgres.ts';
import { runCli } from './lib/cli.ts';

const USAGE = `usage: tsx jobs/experiment.ts <command>
  create FILE|-     define an experiment from a JSON file (- reads stdin), e.g.
                    {"id":"email-recs","name":"Email block","variants":[
                      {"key":"rv","strategy":"recently-viewed","control":true,"params":{"limit":6}},
                      {"key":"brand","strategy":"same-brand","params":{"limit":6,"brand_cap":2}},
                      {"key":"cf","strategy":"collaborative","params":{"limit":6,"exclude_purchased":true}}]}
  list              every experiment, newest first
  show ID           one experiment's definition and status
  start ID          draft → running
  stop ID           running → stopped
  report ID         per-variant results [--format text|json|html] [--out FILE] [--window-days N (default 7)]`;

interface ExperimentJson {
  id: string;
  name: string | null;
  status: string;
  coverage: number;
  salt: string;
  variants: Variant[];
  started_at: string | null;
  stopped_at: string | null;
}

async function call(app: FastifyInstance, options: InjectOptions): Promise<string> {
  const res = await app.inject(options);
  if (res.statusCode >= 400) {
    const body = res.json() as { error?: string; message?: string; field?: string };
    throw new Error(`${res.statusCode} ${body.error}: ${body.message}${body.field ? ` (field ${body.field})` : ''}`);
  }
  return res.body;
}

function describe(e: ExperimentJson): string {
  const variants = e.variants.map((v) => `    ${v.control ? '*' : ' '} ${v.key.padEnd(20)} ${v.strategy.padEnd(16)} weight ${String(v.weight).padEnd(6)} ${JSON.stringify(v.params)}`);
  return [
    `${e.id}${e.name ? ` (${e.name})` : ''}: ${e.status}, coverage ${percent(e.coverage, 0)}, salt "${e.salt}"`,
    `  started ${e.started_at ?? '–'}, stopped ${e.stopped_at ?? '–'}; variants (* = control):`,
    ...variants,
  ].join('\n');
}

const lift = (l: LiftJson | null | undefined) => (l ? `${signedPercent(l.relative)} [${liftInterval(l.relative_ci.low, l.relative_ci.high)}]` : '–');

function reportText(r: Report): string {
  const header = ['variant', 'strategy', 'visitors', 'exposures', 'clicks', 'CTR', 'conversion', 'RPV', 'RPV lift [95% CI]', 'conversion lift [95% CI]'];
  const rows = r.variants.map((v) => [
    `${v.key}${v.control ? '*' : ''}`, v.strategy, String(v.visitors), String(v.exposures), String(v.clicks), percent(v.ctr, 2),
    percent(v.conversion_rate, 2), money(v.revenue_per_visitor), lift(v.lift?.revenue_per_visitor), lift(v.lift?.conversion_rate),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const e = r.experiment;
  return [
    `${e.id}${e.name ? ` (${e.name})` : ''}: ${e.status}; control ${e.control} (*); attribution window ${r.attribution_window_days} days`,
    line(header), ...rows.map(line),
    r.srm.mismatch
      ? `SAMPLE RATIO MISMATCH: visitors do not match the weights (${pValue(r.srm.p_value)}); do not trust the lifts`
      : `sample ratio check: ok (${pValue(r.srm.p_value)})`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { format: { type: 'string', default: 'text' }, out: { type: 'string' }, 'window-days': { type: 'string' }, help: { type: 'boolean' } },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  if (command !== 'list' && !arg) throw new Error(`${command} needs an argument\n${USAGE}`);
  const windowDays = values['window-days'] === undefined ? undefined : Number(values['window-days']);
  if (windowDays !== undefined && !(windowDays > 0)) throw new Error(`--window-days must be a number > 0, got "${values['window-days']}"`);

  const config = loadConfig();
  const pool = createPool(config.databaseUrl, 2);
  // The same validation settings as the server: unknown fields are errors, defaults are applied.
  const app = Fastify({ logger: false, ajv: AJV_OPTIONS });
  try {
    await migrate(pool);
    app.setErrorHandler(errorHandler);
    await app.register(experimentRoutes, { pool, attributionWindowDays: windowDays ?? config.experiments.attributionWindowDays });
    const path = `/v1/experiments/${encodeURIComponent(arg ?? '')}`;
    switch (command) {
      case 'create': {
        const text = await readFile(arg === '-' ? '/dev/stdin' : arg, 'utf8');
        const created = JSON.parse(await call(app, { method: 'POST', url: '/v1/experiments', payload: text, headers: { 'content-type': 'application/json' } }));
        console.log(`created\n${describe(created)}`);
        break;
      }
      case 'list': {
        const { experiments } = JSON.parse(await call(app, { method: 'GET', url: '/v1/experiments' })) as { experiments: ExperimentJson[] };
        console.log(experiments.length === 0 ? 'no experiments' : experiments.map(describe).join('\n\n'));
        break;
      }
      case 'show':
        console.log(describe(JSON.parse(await call(app, { method: 'GET', url: path }))));
        break;
      case 'start':
      case 'stop':
        console.log(describe(JSON.parse(await call(app, { method: 'POST', url: `${path}/${command}` }))));
        break;
      case 'report': {
        const format = values.format;
        if (!['text', 'json', 'html'].includes(format)) throw new Error(`--format must be text, json or html, got "${format}"`);
        const body = await call(app, { method: 'GET', url: `${path}/report${format === 'html' ? '.html' : ''}` });
        const output = format === 'text' ? reportText(JSON.parse(body)) : format === 'json' ? JSON.stringify(JSON.parse(body), null, 2) : body;
        if (values.out) {
          await writeFile(values.out, output);
          console.log(`report written to ${values.out}`);
        } else console.log(output);
        break;
      }
      default:
        throw new Error(`unknown command "${command}"\n${USAGE}`);
    }
  } finally {
    await app.close();
    await pool.end();
  }
}

await runCli(main);
