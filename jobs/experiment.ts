// CLI: define, start, stop and report experiments. It calls the API's own routes in-process
// (no server, no Redis), so its validation, errors and numbers are exactly the API's.
//   tsx jobs/experiment.ts create FILE|-        a JSON definition, as POST /v1/experiments takes it
//   tsx jobs/experiment.ts list
//   tsx jobs/experiment.ts show ID
//   tsx jobs/experiment.ts start ID | stop ID
//   tsx jobs/experiment.ts report ID [--format text|json|html] [--out FILE] [--window-days N]
import { checkTenantId, DEFAULT_TENANT } from '../src/tenant.ts';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { AJV_OPTIONS } from '../src/http/ajv.ts';
import { loadConfig } from '../src/config.ts';
import { errorHandler } from '../src/http/errors.ts';
import type { Variant } from '../src/experiments/definition.ts';
import { bracketed, currencyLabel, DASH, humanDate, liftInterval, money, percent, pValue, signedPercent } from '../src/experiments/format.ts';
import type { IntervalJson, LiftJson, Report } from '../src/experiments/report.ts';
import { experimentRoutes } from '../src/routes/experiments.ts';
import { migrate } from '../src/store/pg/migrate.ts';
import { createPool } from '../src/store/pg/pool.ts';
import { runCli } from './lib/cli.ts';

const USAGE = `usage: tsx jobs/experiment.ts <command>
  create FILE|-     define an experiment from a JSON file (- reads stdin), e.g.
                    {"id":"email-recs","name":"Email block","variants":[
                      {"key":"rv","strategy":"recently-viewed","control":true,"weight":0.5,"params":{"limit":6}},
                      {"key":"brand","strategy":"same-brand","weight":0.25,"params":{"limit":6,"brand_cap":2}},
                      {"key":"cf","strategy":"collaborative","weight":0.25,"params":{"limit":6,"exclude_purchased":true}}]}
                    weights sum to 1 (or leave them all out: an equal split); "hash_version": 1 or 2 (default)
  list              every experiment, newest first
  show ID           one experiment's definition and status
  start ID          draft → running
  stop ID           running → stopped
  report ID         per-variant results [--format text|json|html] [--out FILE] [--window-days N (default 7)]
every command takes --tenant ID (default: default): the shop whose experiments these are`;

interface ExperimentJson {
  id: string;
  name: string | null;
  status: string;
  coverage: number;
  salt: string;
  hash_version: number;
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
  const variants = e.variants.map(
    (v) => `    ${v.control ? '*' : ' '} ${v.key.padEnd(20)} ${v.strategy.padEnd(16)} weight ${String(Number(v.weight.toFixed(4))).padEnd(6)} ${JSON.stringify(v.params)}`,
  );
  return [
    `${e.id}${e.name ? ` (${e.name})` : ''}: ${e.status}, coverage ${percent(e.coverage, 0)}, salt "${e.salt}", hash version ${e.hash_version}`,
    `  started ${humanDate(e.started_at)}, stopped ${humanDate(e.stopped_at)}; variants (* = control):`,
    ...variants,
  ].join('\n');
}

/** Columns padded to their widest cell. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function reportText(r: Report): string {
  // Notes are too long for a column: the cell points to a numbered note under the tables.
  const notes: string[] = [];
  const noted = (text: string, what: string) => `(${notes.push(`${what}: ${text}`)})`;
  const withCi = (value: string, ci: IntervalJson | null, format: (x: number) => string) => (ci ? `${value} ${bracketed(ci, format)}` : value);
  const lift = (l: LiftJson | null | undefined, what: string) => {
    if (!l) return DASH;
    if (!l.relative_ci) return `${DASH} ${noted(l.relative_note ?? 'not estimable', what)}`;
    const cell = `${signedPercent(l.relative)} [${liftInterval(l.relative_ci)}]`;
    return l.relative_note ? `${cell} ${noted(l.relative_note, what)}` : cell;
  };
  const pct = (x: number) => percent(x, 2);
  const traffic = table(
    ['variant', 'strategy', 'visitors', 'exposures', 'clicks', 'shown', 'CTR [95% CI]', 'conversion [95% CI]', 'conversion lift [95% CI]'],
    r.variants.map((v) => [
      `${v.key}${v.control ? '*' : ''}`,
      v.strategy,
      String(v.visitors),
      String(v.exposures),
      String(v.clicks),
      String(v.impressions),
      withCi(percent(v.ctr, 2), v.ctr_ci, pct),
      withCi(percent(v.conversion_rate, 2), v.conversion_rate_ci, pct),
      lift(v.lift?.conversion_rate, `${v.key}, conversion lift`),
    ]),
  );
  const revenue = r.currencies.flatMap((currency, i) => [
    '',
    `revenue in ${currencyLabel(currency)}`,
    ...table(
      ['variant', 'buyers', 'revenue', 'RPV [95% CI]', 'RPV lift [95% CI]'],
      r.variants.map((v) => {
        const c = v.revenue[i];
        const rpv = c.revenue_per_visitor_note
          ? `${money(c.revenue_per_visitor)} ${noted(c.revenue_per_visitor_note, `${v.key}, RPV`)}`
          : withCi(money(c.revenue_per_visitor), c.revenue_per_visitor_ci, money);
        return [`${v.key}${v.control ? '*' : ''}`, String(c.buyers), money(c.revenue), rpv, lift(c.lift, `${v.key}, RPV lift in ${currencyLabel(currency)}`)];
      }),
    ),
  ]);
  const e = r.experiment;
  return [
    `${e.id}${e.name ? ` (${e.name})` : ''}: ${e.status}; control ${e.control} (*); attribution window ${r.attribution_window_days} days`,
    `started ${humanDate(e.started_at)}, stopped ${humanDate(e.stopped_at)}; generated ${humanDate(r.generated_at)}`,
    ...traffic,
    ...(revenue.length > 0 ? revenue : ['', 'revenue: none credited yet']),
    ...(notes.length > 0 ? ['', ...notes.map((n, i) => `(${i + 1}) ${n}`)] : []),
    '',
    r.srm.mismatch ? `SAMPLE RATIO MISMATCH: visitors do not match the weights (${pValue(r.srm.p_value)}); do not trust the lifts` : `sample ratio check: ok (${pValue(r.srm.p_value)})`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'text' },
      out: { type: 'string' },
      'window-days': { type: 'string' },
      tenant: { type: 'string', default: DEFAULT_TENANT },
      help: { type: 'boolean' },
    },
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
    // The CLI acts for the shop it is told, as a key of that shop would.
    app.decorateRequest('tenant', checkTenantId(values.tenant));
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
