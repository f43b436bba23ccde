// What the email routes need, made once at start-up: the signing secret, the compiled template
// (a bad template stops the start, naming the line) and the block service.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Config } from '../config.ts';
import type { ExperimentCache } from '../experiments/cache.ts';
import type { Exposures } from '../experiments/exposures.ts';
import type { Metrics } from '../metrics.ts';
import { servingOptions } from '../recommend/request.ts';
import { TEMPLATE_NAMES } from './block.ts';
import { BlockService } from './blocks.ts';
import { compileTemplate, type Template } from './template.ts';

const MIN_SECRET_LENGTH = 32;

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

export async function setUpEmail(config: Config, s: { metrics: Metrics; exposures: Exposures; experiments: ExperimentCache }, warn: (message: string) => void): Promise<EmailServices> {
  const { email } = config;
  const secret = emailSecret(email.signingSecret, warn);
  const blocks = new BlockService({
    options: servingOptions(config),
    metrics: s.metrics,
    experiments: s.experiments,
    exposures: s.exposures,
    links: { secret, baseUrl: email.publicBaseUrl, ttlSeconds: email.linkTtlSeconds },
    timeBudgetMs: email.timeBudgetMs,
  });
  return { blocks, template: await loadTemplate(email.templatePath), secret };
}
