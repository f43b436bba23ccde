// Recording experiment exposures (docs/email-and-experiments.md#ab-harness). Each is buffered for
// PostgreSQL (ExposureWriter) and noted at once in Redis as the variant first served to the user,
// so that an identity link made before the buffer is written still finds it, whichever API
// process holds the buffer (docs/identity.md#experiments). A block fetched before it is seen (the
// widget's, with exposure=impression) is exposed only when seen: its exposure waits in Redis,
// bound server-side to the user and the variant that served it, and the block's impression (or a
// click on it) records it, once, at that time.
import type { Exposure, ExposureWriter } from './exposure-writer.ts';

/** What a deferred block's exposure records once seen (the user and request id are its key's). */
export interface DeferredExposure {
  experimentId: string;
  variant: string;
  strategy: string;
  items: string[];
}

/** A first exposure as noted: the variant served and when. */
export interface NotedExposure {
  experiment: string;
  variant: string;
  exposedAt: Date;
}

/** Where exposures are noted and deferred blocks wait, per tenant and user (src/store/redis/exposures.ts). */
export interface ExposureNotes {
  /** Notes `variant` as the user's first exposure in `experiment`, unless one is noted already. */
  note(tenant: string, user: string, experiment: string, variant: string, at: Date): Promise<void>;
  /** Keeps the exposure of the block `requestId` served to `user` until it is seen, for `ttlSeconds`. */
  defer(tenant: string, user: string, requestId: string, exposure: DeferredExposure, ttlSeconds: number): Promise<void>;
  /** Takes the deferred exposure of the block `requestId` served to `user`: null when there is none (any more). */
  take(tenant: string, user: string, requestId: string): Promise<DeferredExposure | null>;
}

export class Exposures {
  constructor(
    private readonly writer: ExposureWriter,
    private readonly notes: ExposureNotes,
    private readonly deferredTtlSeconds: number,
    /** Told about a Redis write that failed: that exposure goes unnoted, or (deferred) unrecorded. */
    private readonly onError: (err: Error, what: string) => void,
  ) {}

  /**
   * Notes the variant served (one Redis write: start it with the block's own work). Never
   * rejects. Every exposure recorded is noted first, with the same `exposedAt`.
   */
  note(e: Pick<Exposure, 'tenant' | 'experimentId' | 'variant' | 'userId' | 'exposedAt'>): Promise<void> {
    return this.notes.note(e.tenant, e.userId, e.experimentId, e.variant, e.exposedAt).catch((err: Error) => this.onError(err, 'exposure not noted in Redis'));
  }

  /** Buffers the exposure for PostgreSQL (noted already): never waits, never throws. */
  record(e: Exposure): void {
    this.writer.record(e);
  }

  /** Keeps the exposure of a block until it is seen (seen()); never rejects: a failure loses it (reported). */
  defer(e: Exposure): Promise<void> {
    const { experimentId, variant, strategy, items } = e;
    return this.notes
      .defer(e.tenant, e.userId, e.requestId, { experimentId, variant, strategy, items }, this.deferredTtlSeconds)
      .catch((err: Error) => this.onError(err, 'deferred exposure not kept: it will not be recorded'));
  }

  /** The block `requestId` served to `user` was seen: its deferred exposure, if any, is recorded now, once. Never rejects. */
  async seen(tenant: string, user: string, requestId: string): Promise<void> {
    const deferred = await this.notes.take(tenant, user, requestId).catch((err: Error) => {
      this.onError(err, 'deferred exposure not read: it is not recorded');
      return null;
    });
    if (deferred === null) return;
    const exposure = { ...deferred, tenant, userId: user, requestId, exposedAt: new Date() };
    await this.note(exposure);
    this.record(exposure);
  }

  /** Writes what is buffered and stops (a clean shutdown). */
  close(): Promise<void> {
    return this.writer.close();
  }
}
