// What an experiment is, the checks a definition must pass beyond its JSON schema, and the
// status machine (draft → running → stopped). Pure: the routes and the store build on it.
import { HttpError } from '../errors.ts';
import type { Strategy } from '../recommend/types.ts';

export const STRATEGIES: readonly Strategy[] = ['recently-viewed', 'same-brand', 'collaborative', 'popular'];

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
  /** Relative share of traffic (any scale; 0 sends no one there). */
  weight: number;
  strategy: Strategy;
  params: VariantParams;
  control: boolean;
}

export type Status = 'draft' | 'running' | 'stopped';
export type Action = 'start' | 'stop';

export interface ExperimentDefinition {
  id: string;
  name: string | null;
  /** Hash seed; defaults to the id (GrowthBook's default seed is the experiment key). */
  salt: string;
  /** Share of users in the experiment, (0, 1]; the others get the control and are not counted. */
  coverage: number;
  variants: Variant[];
}

export interface Experiment extends ExperimentDefinition {
  status: Status;
  createdAt: Date;
  startedAt: Date | null;
  stoppedAt: Date | null;
}

const invalid = (message: string, field: string) => new HttpError(400, 'invalid_request', message, field);

/** The rules a JSON schema cannot say: unique keys, one control, some traffic. Throws a 400 naming the field. */
export function checkDefinition(variants: readonly Variant[]): void {
  const seen = new Set<string>();
  variants.forEach((v, i) => {
    if (seen.has(v.key)) throw invalid(`variant key "${v.key}" is used twice`, `variants[${i}].key`);
    seen.add(v.key);
  });
  const controls = variants.flatMap((v, i) => (v.control ? [i] : []));
  if (controls.length !== 1) {
    throw invalid(`exactly one variant must have control: true (found ${controls.length})`, controls.length > 1 ? `variants[${controls[1]}].control` : 'variants');
  }
  if (!(variants.reduce((sum, v) => sum + v.weight, 0) > 0)) throw invalid('variant weights must sum to more than 0', 'variants');
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
