// Hyper-parameter choice without looking at the test set: split train once more
// (same kind of split), fit each candidate on the inner train, keep the best on
// the inner test. Used for EASE's λ, whose best value grows with data density.

import { selectRows, type Interactions } from '../cf/interactions.ts';
import type { ModelData, ModelSpec } from '../model/model.ts';
import type { RecOptions } from '../recommend/recommend.ts';
import { evalSet, evaluate, type EvalOptions } from './protocol.ts';
import type { Split } from './split.ts';
import { servedRecommender, type EvalStrategy } from './strategies.ts';

export const EASE_LAMBDA_GRID: readonly number[] = [50, 100, 200, 500, 1000, 2000];

export interface Tuned {
  best: number;
  /** nDCG@k on the validation split per candidate value. */
  tried: { value: number; ndcg: number }[];
}

/** The λ of `s` (an EASE strategy) with the best validation nDCG@k; ties → the smaller λ. */
export async function tuneEaseLambda(
  s: EvalStrategy,
  train: Interactions,
  split: (x: Interactions) => Split,
  fit: (x: Interactions, spec: ModelSpec) => Promise<ModelData>,
  recOptions: RecOptions,
  k: number,
  options: EvalOptions = {},
  grid: readonly number[] = EASE_LAMBDA_GRID,
): Promise<Tuned> {
  const rows = split(train);
  const inner = selectRows(train, rows.train);
  const validation = evalSet(inner, selectRows(train, rows.test), options);
  const tried: Tuned['tried'] = [];
  for (const value of grid) {
    const data = await fit(inner, { ...s.spec, easeLambda: value });
    tried.push({ value, ndcg: (await evaluate(validation, servedRecommender(data, s.strategy, recOptions), k)).ndcg });
  }
  const best = tried.reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
  return { best: best.value, tried };
}
