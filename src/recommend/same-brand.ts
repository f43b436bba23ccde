import { mergeRanked } from './merge.ts';
import { seedGroups } from './seeds.ts';
import type { Candidate, ModelView } from './types.ts';

/** Items of the seeds' brands by popularity, the seeds themselves left out. */
export async function sameBrand(model: ModelView, seeds: readonly string[]): Promise<Iterable<Candidate>> {
  const { values, because } = await seedGroups(model, seeds, 'brand');
  const lists = await model.lists(values.map((brand) => ({ kind: 'brand', brand })));
  return mergeRanked(lists, because, new Set(seeds));
}
