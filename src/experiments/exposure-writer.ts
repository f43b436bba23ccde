// Records exposures off the request path: record() only appends to an in-memory buffer; a timer
// (or a full batch) writes the buffer with one multi-row INSERT. The buffer is bounded, so a slow
// or unreachable database costs memory up to a cap and then drops (and counts) exposures instead
// of slowing or failing requests. close() writes what is left, for a clean shutdown.
/** One block shown to a user in an experiment. */
export interface Exposure {
  tenant: string;
  experimentId: string;
  variant: string;
  userId: string;
  requestId: string;
  strategy: string;
  /** Item ids shown, in order. */
  items: string[];
  exposedAt: Date;
}

/** Writes a batch, returns the rows inserted (the others were already recorded). */
export type InsertExposures = (rows: readonly Exposure[]) => Promise<number>;

export interface ExposureWriterOptions {
  /** Write the buffer at least this often. */
  flushIntervalMs?: number;
  /** Rows per INSERT; a buffer this full is written at once. */
  batchRows?: number;
  /** Past this many buffered rows new exposures are dropped (counted in stats.dropped). */
  maxBufferedRows?: number;
  /** Told about a failed write (its rows stay buffered for the next try) and about rows lost at close. */
  onError?: (err: Error, rows: number) => void;
}

export interface ExposureStats {
  buffered: number;
  written: number;
  /** Requests already recorded (same experiment and request_id), skipped. */
  duplicates: number;
  dropped: number;
  inserts: number;
}

export type NewExposure = Omit<Exposure, 'exposedAt'> & { exposedAt?: Date };

const keyOf = (e: Pick<Exposure, 'tenant' | 'experimentId' | 'requestId'>) => `${e.tenant}\n${e.experimentId}\n${e.requestId}`;

export class ExposureWriter {
  private buffer: Exposure[] = [];
  /** Keys in the buffer: a request fetched several times in one interval is buffered once. */
  private readonly pending = new Set<string>();
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly batchRows: number;
  private readonly maxBufferedRows: number;
  private readonly onError: (err: Error, rows: number) => void;
  private readonly counts = { written: 0, duplicates: 0, dropped: 0, inserts: 0 };

  constructor(
    private readonly insert: InsertExposures,
    options: ExposureWriterOptions = {},
  ) {
    this.batchRows = options.batchRows ?? 500;
    this.maxBufferedRows = options.maxBufferedRows ?? 50_000;
    this.onError = options.onError ?? (() => undefined);
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Never throws and never waits: safe to call on the request path. */
  record(exposure: NewExposure): void {
    const key = keyOf(exposure);
    if (this.pending.has(key)) {
      this.counts.duplicates++;
      return;
    }
    if (this.buffer.length >= this.maxBufferedRows) {
      this.counts.dropped++;
      return;
    }
    this.pending.add(key);
    // The items are copied: a caller may go on to reuse or change its array before the flush.
    this.buffer.push({ ...exposure, items: [...exposure.items], exposedAt: exposure.exposedAt ?? new Date() });
    if (this.buffer.length >= this.batchRows) void this.flush();
  }

  /** Writes what is buffered, batch by batch; one writer at a time. Never rejects. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Stops the timer and writes everything buffered; what the database refuses now is lost (and reported). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.buffer.length > 0) {
      this.onError(new Error('exposures left unwritten at close'), this.buffer.length);
      this.counts.dropped += this.buffer.length;
      this.buffer = [];
      this.pending.clear();
    }
  }

  get stats(): ExposureStats {
    return { buffered: this.buffer.length, ...this.counts };
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.batchRows);
      try {
        const inserted = await this.insert(batch);
        this.counts.inserts++;
        this.counts.written += inserted;
        this.counts.duplicates += batch.length - inserted;
      } catch (err) {
        // Keep the rows for the next tick rather than retrying in a tight loop.
        this.onError(err as Error, batch.length);
        return;
      }
      this.buffer.splice(0, batch.length);
      for (const e of batch) this.pending.delete(keyOf(e));
    }
  }
}
