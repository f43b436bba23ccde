// Writes kept in flight while the next batch is built: awaiting each batch of a job's Redis
// writes left Node and Redis taking turns (100k users' lists: 4.5 s one at a time, 2.8 s with
// three in flight on this 2-core VM).

/** Batches (of ~1,000 users' writes) the build keeps in flight. */
export const WRITES_IN_FLIGHT = 3;

export class InFlight {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly depth: number) {}

  /** Starts tracking `work`; returns once fewer than `depth` are running. Throws the first failure seen. */
  async add(work: Promise<void>): Promise<void> {
    const tracked: Promise<void> = work.then(
      () => void this.running.delete(tracked),
      (error: unknown) => {
        this.running.delete(tracked);
        this.failure ??= { error };
      },
    );
    this.running.add(tracked);
    if (this.running.size >= this.depth) await Promise.race(this.running);
    this.throwIfFailed();
  }

  /** Waits for every write; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.running);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }
}
