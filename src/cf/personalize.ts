// Request-time scoring over stored neighbour lists (SAR's score = affinity ·
// similarity): score(j) = Σ_seeds weight(seed) · score(seed → j). The HTTP API and
// the offline evaluation both call this, so what is measured is what is served.

import { TopK } from './topk.ts';

export interface Seed {
  item: string;
  /** The user's affinity to the seed (see affinity()). */
  weight: number;
  /** The seed's stored neighbour list, best first. */
  neighbours: { ids: readonly string[]; scores: ArrayLike<number> };
}

export interface Recommendation {
  item: string;
  score: number;
  /** The seed that contributed most to the score ("because you bought …"). */
  because: string;
}

export interface PersonalizeOptions {
  limit: number;
  /** Items never returned (already bought, shown elsewhere). Seeds are always excluded. */
  exclude?: ReadonlySet<string>;
}

/**
 * Items ranked by score, highest first; equal scores → smaller id (JS `<`) first;
 * `because` ties → smaller seed id. Seeds are processed in id order, so the result
 * does not depend on their order. Only positively scored items are returned.
 */
export function personalize(seeds: readonly Seed[], options: PersonalizeOptions): Recommendation[] {
  const ordered = [...seeds].sort((a, b) => compareIds(a.item, b.item));
  // item → its accumulator; -1 marks items never returned (seeds, excluded), so the hot
  // loop needs one map lookup per neighbour. The exclude set is consulted once per new
  // item, not copied: a heavy buyer's purchases can number thousands.
  const slot = new Map<string, number>();
  for (const seed of ordered) slot.set(seed.item, -1);
  const exclude = options.exclude;
  const items: string[] = [];
  const scores: number[] = [];
  const best: number[] = [];
  const because: string[] = [];
  for (const seed of ordered) {
    const { ids, scores: sims } = seed.neighbours;
    for (let k = 0; k < ids.length; k++) {
      const item = ids[k];
      let s = slot.get(item);
      if (s === undefined) {
        if (exclude?.has(item)) {
          slot.set(item, -1);
          continue;
        }
        s = items.length;
        slot.set(item, s);
        items.push(item);
        scores.push(0);
        best.push(-Infinity);
        because.push(seed.item);
      } else if (s < 0) {
        continue;
      }
      const contribution = seed.weight * sims[k];
      scores[s] += contribution;
      // Seeds arrive in id order, so on equal contributions the first (smaller) seed stays.
      if (contribution > best[s]) {
        best[s] = contribution;
        because[s] = seed.item;
      }
    }
  }
  // Sorting every candidate dominated the cost: a bounded heap finds the limit-th best score
  // first, and only the items at or above it (ties included, for the id tie-break) are sorted.
  const threshold = kthBestScore(scores, options.limit);
  const ranked: number[] = [];
  for (let s = 0; s < items.length; s++) if (scores[s] > 0 && scores[s] >= threshold) ranked.push(s);
  ranked.sort((a, b) => scores[b] - scores[a] || compareIds(items[a], items[b]));
  return ranked.slice(0, options.limit).map((s) => ({ item: items[s], score: scores[s], because: because[s] }));
}

/** The k-th highest score (−Infinity when there are fewer than k). */
function kthBestScore(scores: readonly number[], k: number): number {
  if (k <= 0 || scores.length < k) return -Infinity;
  const top = new TopK(k);
  for (let s = 0; s < scores.length; s++) top.push(s, scores[s]);
  return top.worstScore;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
