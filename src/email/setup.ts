// What the email routes need, made once at start-up: the signing secret, the compiled template
// (a bad template stops the start, naming the line) and the block service over the app's stores.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { ExperimentCache } from '../experiments/cache.ts';
import type { ExposureWriter } from '../experiments/exposure-writer.ts';
import type { Metrics } from '../metrics.ts';
import type { RecStore } from '../recommend/types.ts';
import { recOptions } from '../routes/recommendations.ts';
import type { Db } from '../store/experiments.ts';
import type { Keys } from '../store/keys.ts';
import { TEMPLATE_NAMES } from './block.ts';
import { BlockService } from './blocks.ts';
import { MailMemory } from './mail-memory.ts';
import { PopularFallback } from './popular-fallback.ts';
import { compileTemplate, type Template } from './template.ts';

const MIN_SECRET_LENGTH = 32;
// The fallback's best-seller list changes slowly; it is only read while the model is unusable.
const FALLBACK_REFRESH_MS = 5 * 60_000;

export interface EmailServices {
  blocks: BlockService;
  template: Template;
  secret: string;
}

/** The configured secret, or (with a warning) a random one that dies with the process. */
export function emailSecret(configured: string, warn: (message: string) => void): string {
  if (configured === '') {
    warn('EMAIL_SIGNING_SECRET is not set: click links and signed email URLs use a random secret and stop working when this process ends');
    return randomBytes(32).toString('base64url');
  }
  if (configured.length < MIN_SECRET_LENGTH) throw new Error(`EMAIL_SIGNING_SECRET must be at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -base64 32)`);
  return configured;
}

export async function loadTemplate(path: string): Promise<Template> {
  try {
    return compileTemplate(await readFile(path, 'utf8'), TEMPLATE_NAMES);
  } catch (err) {
    throw new Error(`email template ${path}: ${(err as Error).message}`);
  }
}

export async function setUpEmail(
  config: Config,
  s: { pool: Db; redis: Redis; keys: Keys; store: RecStore; metrics: Metrics; exposures: ExposureWriter; experiments: ExperimentCache },
  warn: (message: string) => void,
): Promise<EmailServices> {
  const { email } = config;
  const secret = emailSecret(email.signingSecret, warn);
  const blocks = new BlockService({
    store: s.store, options: recOptions(config), metrics: s.metrics, experiments: s.experiments, exposures: s.exposures,
    memory: new MailMemory(s.redis, s.keys, email.mailTtlSeconds),
    fallback: new PopularFallback(s.pool, FALLBACK_REFRESH_MS, (err) => warn(`popular fallback not read from PostgreSQL: ${err.message}`)),
    links: { secret, baseUrl: email.publicBaseUrl, productUrlTemplate: email.productUrlTemplate, ttlSeconds: email.linkTtlSeconds },
    timeBudgetMs: email.timeBudgetMs,
  });
  return { blocks, template: await loadTemplate(email.templatePath), secret };
}
