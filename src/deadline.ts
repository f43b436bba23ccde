// A time bound on work that cannot be cancelled (a Redis or PostgreSQL round trip): the caller
// stops waiting and answers otherwise; the work finishes (or fails) unobserved.

/** The bound passed. Its code marks it as a backing service being unavailable (errors.ts: 503). */
export class DeadlineError extends Error {
  readonly code = 'ETIMEDOUT';
}

export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new DeadlineError(`no answer within ${ms} ms`)), ms); });
  // race() subscribes to `work`, so its late rejection is handled, not an unhandled rejection.
  try { return await Promise.race([work, deadline]); } finally { clearTimeout(timer); }
}
