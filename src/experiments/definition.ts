// What an experiment is, the checks a definition must pass beyond its JSON schema, and the
// status machine (draft → running → stopped). Pure: the routes and the store build on it.
import { HttpError } from '../http/errors.ts';
import type { Audience } from '../lifecycle/audiences.ts';
import type { Strategy } from '../recommend/types.ts';

export { STRATEGIES } from '../recommend/types.ts';

/** How a variant's strategy is called: the recommendation endpoints' query parameters of the same name. */
export interface VariantParams {
  limit?: number;
  brand_cap?: number;
  exclude_purchased?: boolean;
  in_stock?: boolean;
  category?: string;
  fallback?: boolean;
}

export interface Variant {
  key: string;
  /** Share of traffic: the variants' weights sum to 1 (GrowthBook's bucket weights; 0 sends no one there). */
  weight: number;
  strategy: Strategy;
  params: VariantParams;
  control: boolean;
}

/** A variant as a client defines it: weights may be left out, on every variant (an equal split). */
export type VariantInput = Omit<Variant, 'weight'> & { weight?: number };

/** GrowthBook's hashing: 1, its SDKs' original (biased); 2, the one they recommend. */
export type HashVersion = 1 | 2;
export const DEFAULT_HASH_VERSION: HashVersion = 2;

export type Status = 'draft' | 'running' | 'stopped';
export type Action = 'start' | 'stop';

export interface ExperimentDefinition {
  id: string;
  name: string | null;
  /** Hash seed; defaults to the id (GrowthBook's default seed is the experiment key). */
  salt: string;
  /** Default 2. */
  hashVersion?: HashVersion;
  /** Share of users in the experiment, (0, 1]; the others get the control and are not counted. */
  coverage: number;
  variants: Variant[];
  /** Only the members of this audience enter (src/lifecycle/audiences.ts); the others get the control and are not counted. Null: everyone. */
  audience?: Audience | null;
}

export interface Experiment extends ExperimentDefinition {
  hashVersion: HashVersion;
  status: Status;
  createdAt: Date;
  startedAt: Date | null;
  stoppedAt: Date | null;
}

const invalid = (message: string, field: string) => new HttpError(400, 'invalid_request', message, field);

/** GrowthBook's SDKs use weights summing to 1 within this much as given (and others not at all). */
export const WEIGHT_TOLERANCE = 0.01;

/**
 * The rules a JSON schema cannot say: unique keys, one control, weights summing to 1 (or none
 * given: an equal split, GrowthBook's default). Returns the variants with their weights; throws
 * a 400 naming the field. Weights of another scale (1:1:2) are refused rather than rescaled: the
 * SDKs would split such an experiment equally, so the same definition would bucket differently there.
 */
export function checkDefinition(variants: readonly VariantInput[]): Variant[] {
  const seen = new Set<string>();
  variants.forEach((v, i) => {
    if (seen.has(v.key)) throw invalid(`variant key "${v.key}" is used twice`, `variants[${i}].key`);
    seen.add(v.key);
  });
  const controls = variants.flatMap((v, i) => (v.control ? [i] : []));
  if (controls.length !== 1) {
    throw invalid(`exactly one variant must have control: true (found ${controls.length})`, controls.length > 1 ? `variants[${controls[1]}].control` : 'variants');
  }
  const given = variants.filter((v) => v.weight !== undefined).length;
  if (given === 0) return variants.map((v) => ({ ...v, weight: 1 / variants.length }));
  if (given < variants.length) {
    throw invalid(`variant weights must sum to 1: give every variant a weight, or none for an equal split (${given} of ${variants.length} have one)`, 'variants');
  }
  const sum = variants.reduce((total, v) => total + v.weight!, 0);
  if (sum < 1 - WEIGHT_TOLERANCE || sum > 1 + WEIGHT_TOLERANCE) {
    throw invalid(`variant weights must sum to 1 (within ${WEIGHT_TOLERANCE}, as GrowthBook's SDKs require), e.g. 0.25, 0.25, 0.5 rather than 1, 1, 2; these sum to ${sum}`, 'variants');
  }
  return variants.map((v) => ({ ...v, weight: v.weight! }));
}

export function controlOf(experiment: Pick<ExperimentDefinition, 'variants'>): Variant {
  const control = experiment.variants.find((v) => v.control);
  if (!control) throw new Error('experiment has no control variant');
  return control;
}

const NEXT: Record<Action, { from: Status; to: Status }> = {
  start: { from: 'draft', to: 'running' },
  stop: { from: 'running', to: 'stopped' },
};

/** The status an action leads to; 409 when the experiment is not in the status it acts on. */
export function transition(current: Status, action: Action): Status {
  const { from, to } = NEXT[action];
  if (current !== from) throw new HttpError(409, 'invalid_transition', `cannot ${action} an experiment that is ${current} (only a ${from} one)`, 'status');
  return to;
}
