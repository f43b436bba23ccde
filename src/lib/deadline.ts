// A time bound on work that cannot be cancelled (a Redis or PostgreSQL round trip): the caller
// stops waiting and answers otherwise; the work finishes (or fails) unobserved.

/** The bound passed. Its code marks it as a backing service being unavailable (errors.ts: 503). */
export class DeadlineError extends Error {
  readonly code = 'ETIMEDOUT';
}

export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  // One promise and one timer per call (no race() of two promises): it runs on every request.
  // `work` is always subscribed to, so its late rejection is handled, not an unhandled rejection.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineError(`no answer within ${ms} ms`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
