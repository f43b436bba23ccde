// A value read from a source that may be slow or down (PostgreSQL), kept for a while: readers in
// between share it, concurrent readers share one read, and a failed read keeps the last value
// and is tried again soon rather than at every request.
const RETRY_MS = 5000;

export class Refreshing<T> {
  private readAt = -Infinity;
  private reading: Promise<T> | null = null;

  constructor(
    private value: T,
    private readonly read: (last: T) => Promise<T>,
    private readonly ttlMs: number,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  get(): Promise<T> {
    if (performance.now() - this.readAt < this.ttlMs) return Promise.resolve(this.value);
    this.reading ??= this.refresh().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async refresh(): Promise<T> {
    try {
      this.value = await this.read(this.value);
      this.readAt = performance.now();
    } catch (err) {
      this.onError(err as Error);
      this.readAt = performance.now() - this.ttlMs + Math.min(this.ttlMs, RETRY_MS);
    }
    return this.value;
  }
}
