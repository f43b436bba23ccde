// Recording experiment exposures (docs/email-and-experiments.md#ab-harness). Each is buffered for
// PostgreSQL (ExposureWriter) and noted at once in Redis as the variant first served to the user,
// so that an identity link made before the buffer is written still finds it, whichever API
// process holds the buffer (docs/identity.md#experiments). A block fetched before it is seen (the
// widget's, with exposure=impression) is exposed only when seen: its exposure waits in Redis,
// bound server-side to the user and the variant that served it, and the block's impression (or a
// click on it) records it, once, at that time.
import type { Keys } from '../store/redis/keys.ts';
import type { RedisClient } from '../store/redis/client.ts';
import { deferExposure, noteExposure, takeDeferred } from '../store/redis/exposures.ts';
import type { Exposure, ExposureWriter } from './exposure-writer.ts';

export class Exposures {
  constructor(
    private readonly writer: ExposureWriter,
    private readonly redis: RedisClient,
    private readonly keysOf: (tenant: string) => Keys,
    private readonly deferredTtlSeconds: number,
    /** Told about a Redis write that failed: that exposure goes unnoted, or (deferred) unrecorded. */
    private readonly onError: (err: Error, what: string) => void,
  ) {}

  /**
   * Notes the variant served (one Redis write: start it with the block's own work). Never
   * rejects. Every exposure recorded is noted first, with the same `exposedAt`.
   */
  note(e: Pick<Exposure, 'tenant' | 'experimentId' | 'variant' | 'userId' | 'exposedAt'>): Promise<void> {
    return noteExposure(this.redis, this.keysOf(e.tenant), e.userId, e.experimentId, e.variant, e.exposedAt).catch((err: Error) => this.onError(err, 'exposure not noted in Redis'));
  }

  /** Buffers the exposure for PostgreSQL (noted already): never waits, never throws. */
  record(e: Exposure): void {
    this.writer.record(e);
  }

  /** Keeps the exposure of a block until it is seen (seen()); never rejects: a failure loses it (reported). */
  defer(e: Exposure): Promise<void> {
    const { experimentId, variant, strategy, items } = e;
    return deferExposure(this.redis, this.keysOf(e.tenant), e.userId, e.requestId, { experimentId, variant, strategy, items }, this.deferredTtlSeconds).catch((err: Error) =>
      this.onError(err, 'deferred exposure not kept: it will not be recorded'),
    );
  }

  /** The block `requestId` served to `user` was seen: its deferred exposure, if any, is recorded now, once. Never rejects. */
  async seen(tenant: string, user: string, requestId: string): Promise<void> {
    const deferred = await takeDeferred(this.redis, this.keysOf(tenant), user, requestId).catch((err: Error) => {
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
