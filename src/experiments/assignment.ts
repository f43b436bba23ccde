// Which variant a user sees: a pure function of the experiment's salt, weights, coverage and the
// user id, so every process, restart and replica agrees without storing anything.
import { bucketOf, bucketRanges, chooseVariation } from './hash.ts';
import { controlOf, type Experiment, type Variant } from './definition.ts';

export interface Assignment {
  /** false: not running, or the user falls outside the coverage: serve `variant` (the control), record no exposure. */
  inExperiment: boolean;
  /** The user's bucket in [0, 1) (GrowthBook hash version 2 of salt + user id). */
  bucket: number;
  variant: Variant;
}

/**
 * Weights as GrowthBook bucket weights. Weights that already sum to 1 within GrowthBook's 0.01
 * tolerance are used verbatim, so the ranges (and buckets) are exactly GrowthBook's; any other
 * positive scale (1:1:2, 50/50) is divided by its sum, where GrowthBook would fall back to equal splits.
 */
export function bucketWeights(weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  return sum >= 0.99 && sum <= 1.01 ? [...weights] : weights.map((w) => w / sum);
}

export function assign(experiment: Pick<Experiment, 'salt' | 'coverage' | 'variants' | 'status'>, userId: string): Assignment {
  const bucket = bucketOf(experiment.salt, userId);
  const ranges = bucketRanges(experiment.variants.length, experiment.coverage, bucketWeights(experiment.variants.map((v) => v.weight)));
  const index = experiment.status === 'running' ? chooseVariation(bucket, ranges) : -1;
  return index < 0
    ? { inExperiment: false, bucket, variant: controlOf(experiment) }
    : { inExperiment: true, bucket, variant: experiment.variants[index] };
}
