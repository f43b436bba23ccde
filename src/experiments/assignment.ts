// Which variant a user sees: a pure function of the experiment's salt, hash version, weights,
// coverage and the user id, so every process, restart and replica agrees without storing anything.
// It is GrowthBook's run() (test/unit/experiments-growthbook.test.ts checks it against their SDK).
// A customer with linked ids (docs/identity.md) is hashed by their customer id and keeps the
// variant any of their ids was first exposed to, as GrowthBook's sticky bucketing keeps a bucket
// across a change of the hashed attribute: that stored variant is `kept`.
import { bucketOf, bucketRanges, chooseVariation } from './hash.ts';
import { controlOf, type Experiment, type Variant } from './definition.ts';

export interface Assignment {
  /** false: not running, or the user falls outside the coverage or the audience: serve `variant` (the control), record no exposure. */
  inExperiment: boolean;
  /** The user's bucket in [0, 1) (GrowthBook's hash, of the experiment's version, of salt and user id). */
  bucket: number;
  variant: Variant;
}

/**
 * `inAudience`: whether the user belongs to the experiment's audience (true when it has none).
 * `kept`: the key of the variant the user keeps (a customer's first, under another id); it wins
 * over the hash, coverage and weights, as long as the experiment still has that variant.
 */
export function assign(experiment: Pick<Experiment, 'salt' | 'hashVersion' | 'coverage' | 'variants' | 'status'>, userId: string, inAudience = true, kept: string | null = null): Assignment {
  const bucket = bucketOf(experiment.salt, userId, experiment.hashVersion);
  if (experiment.status !== 'running' || !inAudience) return { inExperiment: false, bucket, variant: controlOf(experiment) };
  const stuck = kept === null ? undefined : experiment.variants.find((v) => v.key === kept);
  if (stuck !== undefined) return { inExperiment: true, bucket, variant: stuck };
  // The weights as stored: checkDefinition made them sum to 1, so GrowthBook uses them as given too.
  const ranges = bucketRanges(
    experiment.variants.length,
    experiment.coverage,
    experiment.variants.map((v) => v.weight),
  );
  const index = chooseVariation(bucket, ranges);
  return index < 0 ? { inExperiment: false, bucket, variant: controlOf(experiment) } : { inExperiment: true, bucket, variant: experiment.variants[index] };
}
