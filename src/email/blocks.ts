// One email block end to end: the experiment variant (if any), the mail's memory of earlier
// blocks, the recommendation within a time budget, the popular fallback when the model is
// missing, slow or down, the exposure, and the tracked links. The routes only parse and render.
import type { FastifyBaseLogger } from 'fastify';
import { withDeadline } from '../deadline.ts';
import { HttpError } from '../errors.ts';
import type { ExperimentCache } from '../experiments/cache.ts';
import type { Variant } from '../experiments/definition.ts';
import type { ExposureWriter } from '../experiments/exposure-writer.ts';
import type { Metrics } from '../metrics.ts';
import { Selection, type Picked } from '../recommend/filters.ts';
import { recommend, type RecOptions, type RecRequest } from '../recommend/recommend.ts';
import type { RecStore, Strategy } from '../recommend/types.ts';
import { recRequest, withVariant, type Query } from '../routes/recommendations.ts';
import type { CatalogFields } from '../store/model-format.ts';
import { blockItems, type Block, type LinkContext } from './block.ts';
import { linkExpiry } from './click-token.ts';
import { blockKey, emailRequestId } from './identity.ts';
import type { MailMemory, RememberedBlock } from './mail-memory.ts';
import type { PopularFallback } from './popular-fallback.ts';

export interface BlockQuery extends Query {
  experiment?: string;
  mail_id?: string;
}

export interface BlockServiceDeps {
  store: RecStore;
  options: RecOptions;
  metrics: Metrics;
  experiments: ExperimentCache;
  exposures: ExposureWriter;
  memory: MailMemory;
  fallback: PopularFallback;
  links: Omit<LinkContext, 'expiresAt'> & { ttlSeconds: number };
  timeBudgetMs: number;
}

export class BlockService {
  constructor(private readonly deps: BlockServiceDeps) {}

  /** The block `strategy` (or the user's variant of `q.experiment`) makes for the query. */
  async block(strategy: Strategy, q: BlockQuery, log: FastifyBaseLogger, now = Date.now()): Promise<Block> {
    const user = q.user ?? null;
    const mailId = q.mail_id ?? null;
    let variant: Variant | null = null;
    let exposed = false;
    if (q.experiment !== undefined) {
      if (user === null) throw new HttpError(400, 'invalid_request', 'experiment needs user', 'user');
      // An experiment that cannot be read (PostgreSQL down before it was ever cached) does not
      // fail the email: the path's strategy is served, and no exposure is recorded.
      const assigned = await this.deps.experiments.assign(q.experiment, user).catch((err: Error) => {
        if (err instanceof HttpError) throw err;
        log.warn({ err }, 'experiment unavailable: email block of the path\'s strategy, no exposure');
        return null;
      });
      variant = assigned?.assignment.variant ?? null;
      exposed = assigned?.assignment.inExperiment ?? false;
    }
    const served = variant?.strategy ?? strategy;
    // Validates before any work: a bad query is a 400 however healthy the services are.
    const request = recRequest(served, variant ? withVariant(q, variant) : q);
    const key = blockKey({ ...q, strategy });

    const earlier = mailId === null ? null : await this.recall(user, mailId, log);
    let shown = earlier?.get(key);
    let picked: Picked[];
    if (shown) {
      picked = await this.fieldsOf(shown);
    } else {
      const shownBefore = [...(earlier?.values() ?? [])].flatMap((b) => b.items.map((i) => i.id));
      const made = await this.compute({ ...request, exclude: [...request.exclude, ...shownBefore] }, log);
      picked = made.picked;
      shown = {
        requestId: emailRequestId(user, mailId, key, variant?.key ?? null, made.version), strategy: served,
        variant: variant?.key ?? null, modelVersion: made.version, degraded: made.version === null,
        items: picked.map((p) => ({ id: p.id, score: p.score, source: p.source, because: p.because })),
      };
      if (mailId !== null) {
        const stored = await this.deps.memory.remember(user, mailId, key, shown).catch((err: Error) => {
          log.warn({ err }, 'mail memory unavailable: this block is not remembered');
          return shown!;
        });
        // A concurrent fetch of the same block stored its answer first: answer the same.
        if (stored.requestId !== shown.requestId) picked = await this.fieldsOf(shown = stored);
      }
    }

    if (exposed) {
      this.deps.exposures.record({
        experimentId: q.experiment!, variant: variant!.key, userId: user!, requestId: shown.requestId,
        strategy: shown.strategy, items: shown.items.map((i) => i.id),
      });
    }
    const links = { ...this.deps.links, expiresAt: linkExpiry(now, this.deps.links.ttlSeconds) };
    return {
      request_id: shown.requestId, strategy: shown.strategy, experiment: q.experiment, variant: shown.variant ?? undefined,
      model_version: shown.modelVersion, degraded: shown.degraded || undefined, mail_id: q.mail_id,
      items: blockItems(picked, { requestId: shown.requestId, user, variant: shown.variant }, links),
    };
  }

  /** The mail's earlier blocks; none when Redis cannot say (the block is then made afresh). */
  private async recall(user: string | null, mailId: string, log: FastifyBaseLogger): Promise<Map<string, RememberedBlock>> {
    try {
      return await this.deps.memory.blocks(user, mailId);
    } catch (err) {
      log.warn({ err }, 'mail memory unavailable: earlier blocks of this mail are not left out');
      return new Map();
    }
  }

  /** The recommendation, or the popular fallback when no model is live or it is down or slow. */
  private async compute(request: RecRequest, log: FastifyBaseLogger): Promise<{ picked: Picked[]; version: number | null }> {
    try {
      const started = performance.now();
      const result = await withDeadline(recommend(this.deps.store, request, this.deps.options), this.deps.timeBudgetMs);
      this.deps.metrics.recommendation(request.strategy, result.sources, result.items.length, (performance.now() - started) / 1000);
      if (result.model.version !== null) return { picked: result.items, version: result.model.version };
      log.warn('no model is live: email block from the popular fallback');
    } catch (err) {
      log.warn({ err }, 'recommendation failed: email block from the popular fallback');
    }
    return { picked: await this.popular(request), version: null };
  }

  private async popular(request: RecRequest): Promise<Picked[]> {
    const selection = new Selection(request.limit, request.filter, new Set([...request.exclude, ...request.items]));
    for (const { fields, buyers } of await this.deps.fallback.items()) {
      if (selection.remaining <= 0) break;
      selection.offer({ id: fields.id, score: buyers }, fields, 'popular');
    }
    return selection.picked;
  }

  /** A remembered block's items with their catalog fields (from the live model, else the fallback list). */
  private async fieldsOf(block: RememberedBlock): Promise<Picked[]> {
    const ids = block.items.map((i) => i.id);
    const fromModel = block.degraded ? [] : await this.deps.store.model().then((m) => m.items(ids)).catch(() => []);
    let fromCatalog: Map<string, CatalogFields> | undefined;
    const picked: Picked[] = [];
    for (const [i, item] of block.items.entries()) {
      let fields = fromModel[i] ?? null;
      if (fields === null) {
        fromCatalog ??= new Map((await this.deps.fallback.items()).map((p) => [p.fields.id, p.fields]));
        fields = fromCatalog.get(item.id) ?? null;
      }
      // An item gone from both (a new model without it) is left out rather than shown without a name.
      if (fields !== null) picked.push({ ...item, fields });
    }
    return picked;
  }
}
