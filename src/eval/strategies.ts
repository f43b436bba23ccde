// The strategies the offline evaluation compares, each answered the way the API answers it:
// recommend() (src/recommend/recommend.ts) with its seeds, exclusions and fallback chain, over a
// model fit by the build's own entry (src/model/model.ts) and served from memory
// (src/model/memory-store.ts). What is measured is what is served.
import { SIMILARITIES, type Similarity } from '../config.ts';
import type { ModelData, ModelSpec } from '../model/model.ts';
import { MemoryRecStore } from '../model/memory-store.ts';
import { recommend, type RecOptions } from '../recommend/recommend.ts';
import { EXCLUDES_PURCHASED } from '../recommend/request.ts';
import type { Strategy, UserHistory } from '../recommend/types.ts';
import { servedHistory, type Recommender } from './protocol.ts';

/**
 * `popular`, `recently-viewed`, `same-brand`, `buy-again`, `for-you` (over the default model;
 * the last two with buy-again's model and the blend fit on a validation split of train), or the collaborative
 * strategy over a model: `itemknn:<similarity>`, `ease`, `sar[:<similarity>]` (Microsoft
 * Recommenders' SAR: untruncated neighbour lists, jaccard by default); flags: `+decay` decays
 * popularity and the weighted matrix; `+weighted` fits on summed event weights / ratings.
 */
export interface EvalStrategy {
  name: string;
  strategy: Strategy;
  /** The model the strategy and its fallback chain read. */
  spec: ModelSpec;
}

const SERVED: readonly Strategy[] = ['popular', 'recently-viewed', 'same-brand', 'buy-again', 'for-you'];
const MODELS = ['itemknn', 'sar', 'ease'] as const;
const FLAGS = ['decay', 'weighted'] as const;

/** `base` is the build's model (the fallback of every strategy); `halfLifeDays` the decay of +decay and sar. */
export function parseStrategy(text: string, base: ModelSpec, halfLifeDays: number): EvalStrategy {
  const name = text.trim();
  const [head, ...flags] = name.split('+');
  const [kind, similarity] = head.split(':');
  for (const flag of flags) {
    if (!(FLAGS as readonly string[]).includes(flag)) throw new Error(`unknown flag "+${flag}" in "${name}" (flags: ${FLAGS.join(', ')})`);
  }
  if ((SERVED as readonly string[]).includes(kind)) {
    if (similarity !== undefined || flags.length > 0) throw new Error(`"${kind}" takes no similarity or flags`);
    return { name, strategy: kind as Strategy, spec: base };
  }
  if (!(MODELS as readonly string[]).includes(kind)) throw new Error(`unknown strategy "${name}" (one of ${[...SERVED, ...MODELS].join(', ')})`);
  if (similarity !== undefined && kind === 'ease') throw new Error('"ease" takes no similarity');
  if (similarity !== undefined && !(SIMILARITIES as readonly string[]).includes(similarity)) {
    throw new Error(`unknown similarity "${similarity}" (one of ${SIMILARITIES.join(', ')})`);
  }
  const sar = kind === 'sar';
  const decay = sar || flags.includes('decay');
  return {
    name,
    strategy: 'collaborative',
    spec: {
      ...base,
      model: kind === 'ease' ? 'ease' : 'itemknn',
      similarity: (similarity ?? (sar ? 'jaccard' : base.similarity)) as Similarity,
      untruncated: sar,
      halfLifeDays: decay ? halfLifeDays : 0,
      weighted: flags.includes('weighted') || (decay && !sar),
    },
  };
}

/** The served block of `strategy` for each evaluated user: its top k ids. */
export function servedRecommender(data: ModelData, strategy: Strategy, options: RecOptions): Recommender {
  let current: { id: string; history: UserHistory } | null = null;
  const store = new MemoryRecStore(data, (id) => (current?.id === id ? current.history : undefined));
  return async (user, k) => {
    current = { id: user.id, history: servedHistory(user, options.recentlyViewedCap) };
    const result = await recommend(
      store,
      {
        strategy,
        user: user.id,
        items: [],
        limit: k,
        exclude: [...user.exclude],
        excludePurchased: EXCLUDES_PURCHASED[strategy],
        filter: {},
        fallback: true,
      },
      options,
    );
    return result.items.map((i) => i.id);
  };
}
