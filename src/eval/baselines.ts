// The published next-basket baselines, computed by the evaluation itself (Li et al., "A Next
// Basket Recommendation Reality Check", 2023): P-TopFreq recommends the user's most frequent
// items (baskets holding them; ties: the more recent), GP-TopFreq fills the rest with the
// globally most frequent ones. Not served: a yardstick for buy-again and for-you.
import type { RankedItems } from '../cf/popularity.ts';
import type { EvalUser, Recommender } from './protocol.ts';

export const BASELINES = ['p-topfreq', 'gp-topfreq'] as const;
export type Baseline = (typeof BASELINES)[number];

/** The user's items by the number of baskets (distinct times) holding them, then by their latest basket. */
export function personalTopFrequency(user: EvalUser): string[] {
  const baskets = new Map<string, Set<number>>();
  const latest = new Map<string, number>();
  for (const e of user.history) {
    if (e.view) continue;
    (baskets.get(e.item) ?? baskets.set(e.item, new Set()).get(e.item)!).add(e.ts);
    latest.set(e.item, Math.max(latest.get(e.item) ?? -Infinity, e.ts));
  }
  return [...baskets.keys()].sort((a, b) => baskets.get(b)!.size - baskets.get(a)!.size || latest.get(b)! - latest.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
}

/** `popular`: the global ranking GP-TopFreq fills with (the model's popularity list). */
export function baselineRecommender(name: Baseline, popular: RankedItems): Recommender {
  return (user, k) => {
    const out: string[] = [];
    const taken = new Set<string>();
    const add = (id: string) => {
      if (out.length < k && !user.exclude.has(id) && !taken.has(id)) {
        taken.add(id);
        out.push(id);
      }
    };
    for (const id of personalTopFrequency(user)) add(id);
    if (name === 'gp-topfreq') for (const id of popular.ids) add(id);
    return out;
  };
}
