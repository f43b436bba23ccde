// A user's affinity to the items of their history (SAR's user affinity): the seed
// weights of personalize(). The API computes it from the events it reads, the
// offline evaluation from the train split, with this one function.

import { decayFactor } from './decay.ts';
import { SECONDS_PER_DAY } from '../lib/time.ts';

export interface UserEvent {
  item: string;
  /** Event weight (by type) or rating. */
  weight: number;
  /** Unix seconds. */
  ts: number;
}

export interface AffinityOptions {
  /** Reference time of the decay, unix seconds (request time; the end of train offline). */
  now: number;
  /** 0 = no decay. */
  halfLifeDays: number;
  /** Each item counts 1 (× decay of its latest event) instead of the sum of its weights: for models fit on a binary matrix. */
  binary?: boolean;
}

/** item → Σ weight · 2^(-(now - ts)/halfLife) (or, binary, the decay of the latest event). */
export function affinity(events: Iterable<UserEvent>, options: AffinityOptions): Map<string, number> {
  const halfLife = options.halfLifeDays * SECONDS_PER_DAY;
  const out = new Map<string, number>();
  for (const e of events) {
    const decayed = decayFactor(e.ts, options.now, halfLife);
    const prev = out.get(e.item) ?? 0;
    out.set(e.item, options.binary ? Math.max(prev, decayed) : prev + e.weight * decayed);
  }
  return out;
}
