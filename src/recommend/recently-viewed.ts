import type { Candidate, UserHistory } from './types.ts';

/** The user's viewed items, newest first; the score is the view time (Unix ms). */
export function recentlyViewed(history: UserHistory): Candidate[] {
  return history.viewed.map((v) => ({ id: v.id, score: v.at }));
}
