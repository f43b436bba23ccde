// A recommendation answered within a bound whatever Redis does. When Redis is down or slower
// than the deadline, the same request is answered without the user's history (non-personal)
// from the in-process cache of the last model version read: its popular list is always there
// (src/store/redis/rec-store.ts reads it ahead), and whatever else recent traffic brought in. Only
// when that cache has nothing for the request does the caller get the failure (a 503).
import { withDeadline } from '../lib/deadline.ts';
import { isUnavailable } from '../http/errors.ts';
import { recommend, type RecOptions, type RecRequest, type RecResult } from './recommend.ts';
import type { RecStore } from './types.ts';

export interface DegradableStore extends RecStore {
  /** The last model version read, from the in-process cache alone, with no user history; null before any was read. */
  cachedOnly(): RecStore | null;
}

export interface ServedResult extends RecResult {
  /**
   * Answered without the user's history: from the in-process cache because Redis was down, slow
   * or without a model, or because their opt-out was not known (src/store/redis/user-flags.ts).
   */
  degraded: boolean;
}

export async function recommendWithin(store: DegradableStore, request: RecRequest, options: RecOptions, deadlineMs: number, onDegraded: (cause: Error) => void): Promise<ServedResult> {
  let cause: Error;
  try {
    const result = await withDeadline(recommend(store, request, options), deadlineMs);
    return { ...result, degraded: result.withheld };
  } catch (err) {
    if (!isUnavailable(err as Error)) throw err;
    cause = err as Error;
  }
  const cached = store.cachedOnly();
  if (cached !== null) {
    const result = await recommend(cached, { ...request, user: undefined }, options);
    if (result.items.length > 0) {
      onDegraded(cause);
      return { ...result, degraded: true };
    }
  }
  throw cause;
}
