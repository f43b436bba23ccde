// One email block end to end: the experiment variant (if any), the mail's memory of earlier
// blocks, the recommendation within a time budget, the popular fallback when the model is
// missing, slow or down, the exposure, and the tracked links. The routes only parse and render.
import type { FastifyBaseLogger } from 'fastify';
import { withDeadline } from '../lib/deadline.ts';
import { HttpError } from '../http/errors.ts';
import type { ExperimentCache } from '../experiments/cache.ts';
import type { Variant } from '../experiments/definition.ts';
import type { Exposures } from '../experiments/exposures.ts';
import type { Metrics } from '../metrics.ts';
import { Selection, type Picked } from '../recommend/filters.ts';
import { recommend, type RecOptions, type RecRequest } from '../recommend/recommend.ts';
import type { RecStore, Strategy } from '../recommend/types.ts';
import { recRequest, withVariant, type Query } from '../recommend/request.ts';
import type { CatalogFields } from '../recommend/types.ts';
import type { LinkTemplates } from '../recommend/links.ts';
import { blockItems, type Block, type LinkContext } from './block.ts';
import { linkExpiry } from './click-token.ts';
import { blockKey, emailRequestId } from './identity.ts';
import type { MailMemoryStore, Recall, RememberedBlock } from './memory.ts';

export interface BlockQuery extends Query {
  experiment?: string;
  mail_id?: string;
}

/** A best seller of the catalog's last resort list (read from PostgreSQL, not Redis). */
export interface PopularItem {
  fields: CatalogFields;
  /** Distinct buyers. */
  buyers: number;
}

/** The last resort of a block: best sellers that do not depend on the model or Redis. */
export interface FallbackCatalog {
  /** Best first; empty only when they could never be read. */
  items(): Promise<PopularItem[]>;
}

/** What a block is made from in one tenant. */
export interface BlockTenant {
  id: string;
  store: RecStore;
  memory: MailMemoryStore;
  fallback: FallbackCatalog;
  /** The shop's product page and image templates. */
  links: { get(): Promise<LinkTemplates> };
}

export interface BlockServiceDeps {
  options: RecOptions;
  metrics: Metrics;
  experiments: ExperimentCache;
  exposures: Exposures;
  links: Omit<LinkContext, 'expiresAt' | 'templates'> & { ttlSeconds: number };
  timeBudgetMs: number;
}

export class BlockService {
  constructor(private readonly deps: BlockServiceDeps) {}

  /** The block `strategy` (or the user's variant of `q.experiment`) makes for the query. */
  async block(t: BlockTenant, strategy: Strategy, q: BlockQuery, log: FastifyBaseLogger, now = Date.now()): Promise<Block> {
    const user = q.user ?? null;
    const mailId = q.mail_id ?? null;
    let variant: Variant | null = null;
    let exposed = false;
    if (q.experiment !== undefined) {
      if (user === null) throw new HttpError(400, 'invalid_request', 'experiment needs user', 'user');
      // An experiment that cannot be read (PostgreSQL down before it was ever cached) does not
      // fail the email: the path's strategy is served, and no exposure is recorded.
      const assigned = await this.deps.experiments.assign(t.id, q.experiment, user).catch((err: Error) => {
        if (err instanceof HttpError) throw err;
        log.warn({ err }, "experiment unavailable: email block of the path's strategy, no exposure");
        return null;
      });
      variant = assigned?.assignment.variant ?? null;
      exposed = assigned?.assignment.inExperiment ?? false;
    }
    const served = variant?.strategy ?? strategy;
    // Validates before any work: a bad query is a 400 however healthy the services are.
    const request = recRequest(served, variant ? withVariant(q, variant.params) : q);
    const key = blockKey({ ...q, strategy });
    // The variant served is noted at once, alongside the block's own work (src/experiments/exposures.ts).
    const exposedAt = new Date();
    const noted = exposed ? this.deps.exposures.note({ tenant: t.id, experimentId: q.experiment!, variant: variant!.key, userId: user!, exposedAt }) : null;

    // Opt-out wins over the mail's memory: an opted-out user's earlier blocks are not served again.
    const recalled = mailId === null ? null : await this.recall(t, user ?? '', mailId, log);
    const earlier = recalled?.state === 'ok' ? recalled.blocks : null;
    let shown = earlier?.get(key);
    let picked: Picked[];
    let optedOut = recalled?.state === 'opted-out';
    if (shown) {
      picked = await this.fieldsOf(t, shown);
    } else {
      const shownBefore = [...(earlier?.values() ?? [])].flatMap((b) => b.items.map((i) => i.id));
      const made = await this.compute(t, { ...request, exclude: [...request.exclude, ...shownBefore] }, log);
      picked = made.picked;
      optedOut ||= made.optedOut;
      shown = {
        requestId: emailRequestId(user, mailId, key, variant?.key ?? null, made.version),
        strategy: served,
        variant: variant?.key ?? null,
        modelVersion: made.version,
        degraded: made.degraded,
        items: picked.map((p) => ({ id: p.id, score: p.score, source: p.source, because: p.because, repeat: p.repeat })),
      };
      // Only a block made with everything known about the user is remembered for the mail.
      if (earlier !== null && !optedOut && !made.degraded) {
        const stored = await t.memory.remember(user ?? '', mailId!, key, shown).catch((err: Error) => {
          log.warn({ err }, 'mail memory unavailable: this block is not remembered');
          return shown!;
        });
        // A concurrent fetch of the same block stored its answer first: answer the same.
        if (stored.requestId !== shown.requestId) picked = await this.fieldsOf(t, (shown = stored));
      }
    }

    if (exposed) {
      await noted;
      this.deps.exposures.record({
        tenant: t.id,
        experimentId: q.experiment!,
        variant: variant!.key,
        userId: user!,
        requestId: shown.requestId,
        strategy: shown.strategy,
        items: shown.items.map((i) => i.id),
        exposedAt,
      });
    }
    const links = { ...this.deps.links, expiresAt: linkExpiry(now, this.deps.links.ttlSeconds), templates: await t.links.get() };
    return {
      request_id: shown.requestId,
      strategy: shown.strategy,
      experiment: q.experiment,
      variant: shown.variant ?? undefined,
      model_version: shown.modelVersion,
      degraded: shown.degraded || undefined,
      opted_out: optedOut || undefined,
      mail_id: q.mail_id,
      items: blockItems(picked, { tenant: t.id, requestId: shown.requestId, user, variant: shown.variant }, links),
    };
  }

  /** The mail's earlier blocks; none when Redis cannot say (the block is then made afresh, and not remembered). */
  private async recall(t: BlockTenant, user: string, mailId: string, log: FastifyBaseLogger): Promise<Recall> {
    try {
      return await t.memory.recall(user, mailId);
    } catch (err) {
      log.warn({ err }, 'mail memory unavailable: earlier blocks of this mail are not left out');
      return { state: 'withheld' };
    }
  }

  /**
   * The recommendation, or the popular fallback when no model is live or it is down or slow.
   * `degraded`: made without everything known (the fallback, or the user's opt-out unknown).
   */
  private async compute(t: BlockTenant, request: RecRequest, log: FastifyBaseLogger): Promise<{ picked: Picked[]; version: number | null; degraded: boolean; optedOut: boolean }> {
    try {
      const started = performance.now();
      const result = await withDeadline(recommend(t.store, request, this.deps.options), this.deps.timeBudgetMs);
      this.deps.metrics.recommendation(t.id, request.strategy, result.sources, result.items.length, (performance.now() - started) / 1000);
      return { picked: result.items, version: result.model.version, degraded: result.withheld, optedOut: result.optedOut };
    } catch (err) {
      log.warn({ err }, 'recommendation failed: email block from the popular fallback');
    }
    return { picked: await this.popular(t, request), version: null, degraded: true, optedOut: false };
  }

  private async popular(t: BlockTenant, request: RecRequest): Promise<Picked[]> {
    const selection = new Selection(request.limit, request.filter, new Set([...request.exclude, ...request.items]));
    for (const { fields, buyers } of await t.fallback.items()) {
      if (selection.remaining <= 0) break;
      selection.offer({ id: fields.id, score: buyers }, fields, 'popular');
    }
    return selection.picked;
  }

  /** A remembered block's items with their catalog fields (from the live model, else the fallback list). */
  private async fieldsOf(t: BlockTenant, block: RememberedBlock): Promise<Picked[]> {
    const ids = block.items.map((i) => i.id);
    const fromModel = block.degraded
      ? []
      : await t.store
          .model()
          .then((m) => m.items(ids))
          .catch(() => []);
    let fromCatalog: Map<string, CatalogFields> | undefined;
    const picked: Picked[] = [];
    for (const [i, item] of block.items.entries()) {
      let fields = fromModel[i] ?? null;
      if (fields === null) {
        fromCatalog ??= new Map((await t.fallback.items()).map((p) => [p.fields.id, p.fields]));
        fields = fromCatalog.get(item.id) ?? null;
      }
      // An item gone from both (a new model without it) is left out rather than shown without a name.
      if (fields !== null) picked.push({ ...item, via: item.source, fields });
    }
    return picked;
  }
}
