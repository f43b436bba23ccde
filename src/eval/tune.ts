// Hyper-parameter choice without looking at the test set: split train once more
// (same kind of split), fit each candidate on the inner train, keep the best on
// the inner test. Used for EASE's λ, whose best value grows with data density.

import { selectRows, type Interactions } from '../cf/interactions.ts';
import { fitModel, type ModelParams, type ModelSpec } from './models.ts';
import { evalSet, evaluate, type EvalOptions } from './protocol.ts';
import type { Split } from './split.ts';

export const EASE_LAMBDA_GRID: readonly number[] = [50, 100, 200, 500, 1000, 2000];

export interface Tuned {
  best: number;
  /** nDCG@k on the validation split per candidate value. */
  tried: { value: number; ndcg: number }[];
}

/** The λ of `spec` (an EASE model) with the best validation nDCG@k; ties → the smaller λ. */
export function tuneEaseLambda(
  spec: ModelSpec,
  train: Interactions,
  split: (x: Interactions) => Split,
  params: ModelParams,
  k: number,
  options: EvalOptions = {},
  grid: readonly number[] = EASE_LAMBDA_GRID,
): Tuned {
  const rows = split(train);
  const inner = selectRows(train, rows.train);
  const validation = evalSet(inner, selectRows(train, rows.test), options);
  const tried = grid.map((value) => ({
    value,
    ndcg: evaluate(validation, fitModel(spec, inner, validation.now, { ...params, easeLambda: value }), k).ndcg,
  }));
  const best = tried.reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
  return { best: best.value, tried };
}
