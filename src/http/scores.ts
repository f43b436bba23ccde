// One meaning of an item's `score`, whatever produced it: how strongly the block picks the item,
// in [0, 1] with 4 decimals, never rising down the block. Within a run of items from one chain
// step, an item's raw signal over the run's strongest (by rank where a signal is not positive);
// the next run continues from the last score of the one before. The raw signal keeps a field of
// its own, named for what it is (signalField): a view time, a similarity sum, a popularity, a
// probability, a blend score.
import type { Picked } from '../recommend/filters.ts';
import type { Source } from '../recommend/types.ts';

export type Signal = 'viewed_at' | 'similarity' | 'popularity' | 'probability' | 'blend_score';

export const SIGNAL: Readonly<Record<Source | 'for-you', Signal>> = {
  'recently-viewed': 'viewed_at',
  collaborative: 'similarity',
  'same-brand': 'popularity',
  'category-popular': 'popularity',
  popular: 'popularity',
  'buy-again': 'probability',
  'for-you': 'blend_score',
};

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** The block's scores, in item order. */
export function blockScores(items: readonly Pick<Picked, 'score' | 'via'>[]): number[] {
  const out = new Array<number>(items.length);
  let ceiling = 1;
  for (let start = 0; start < items.length; ) {
    let end = start;
    while (end < items.length && items[end].via === items[start].via) end++;
    let best = -Infinity;
    let positive = true;
    for (let i = start; i < end; i++) {
      best = Math.max(best, items[i].score);
      if (!(items[i].score > 0)) positive = false;
    }
    for (let i = start; i < end; i++) {
      const relative = positive ? items[i].score / best : 1 - (i - start) / (end - start);
      out[i] = round4(ceiling * relative);
    }
    ceiling = out[end - 1];
    start = end;
  }
  return out;
}

/** `,"viewed_at":…` (or the signal of the item's step): the raw value behind its score. */
export function signalJson(item: Pick<Picked, 'score' | 'via'>): string {
  const field = SIGNAL[item.via];
  const value = field === 'viewed_at' ? `"${new Date(item.score).toISOString()}"` : String(Number(item.score.toPrecision(6)));
  return `,"${field}":${value}`;
}
