// What a model version learned, in words a shop can read: buy-again's fitted shape and feature
// weights, and the for-you blend's weight per generator feature. Shown by GET
// /v1/models/current and the build summary, so a shop sees why a block ranks as it does.
import { blendFeatureNames, type BlendModel } from '../cf/repeat/blend.ts';
import { BUY_AGAIN_FEATURES } from '../cf/repeat/buy-again.ts';
import type { RepeatModel } from '../recommend/types.ts';

export interface BuyAgainDescription {
  occasion_decay: number;
  horizon_days: number;
  horizon_visits: number;
  min_probability: number;
  /** Logistic weight of each feature, on the feature's own scale. */
  weights: Record<string, number>;
  typical_gap_days: number;
  visit_gap_days: number;
}

export interface ForYouDescription {
  generators: string[];
  /** Weight of each generator's normalised score and reciprocal rank. */
  weights: Record<string, number>;
}

const round = (x: number) => Number(x.toPrecision(4));

export function describeBuyAgain(m: RepeatModel): BuyAgainDescription {
  const p = m.params;
  return {
    occasion_decay: p.occasionDecay,
    horizon_days: p.horizonDays,
    horizon_visits: p.horizonVisits,
    min_probability: round(p.minProbability),
    weights: Object.fromEntries(BUY_AGAIN_FEATURES.map((name, i) => [name, round(p.weights[i])])),
    typical_gap_days: round(Math.exp(m.globals.gapMean)),
    visit_gap_days: round(m.globals.visitGapDays),
  };
}

export function describeForYou(b: BlendModel): ForYouDescription {
  return {
    generators: b.generators.map((g) => g.name),
    weights: Object.fromEntries(blendFeatureNames(b.generators).map((name, i) => [name, round(b.weights[i])])),
  };
}
