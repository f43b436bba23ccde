import { mergeRanked } from './merge.ts';
import { seedGroups } from './seeds.ts';
import type { Candidate, ModelView } from './types.ts';

/** The most popular items, overall or within one category. */
export async function popular(model: ModelView, category?: string): Promise<Iterable<Candidate>> {
  return mergeRanked(await model.lists([{ kind: 'popular', category }]));
}

/**
 * The most popular items of the seeds' categories (or of the requested category), merged
 * by popularity: the fallback that stays on topic when nothing more specific is left.
 */
export async function categoryPopular(model: ModelView, seeds: readonly string[], category?: string): Promise<Iterable<Candidate>> {
  const groups = category === undefined ? await seedGroups(model, seeds, 'category') : { values: [category], because: [] };
  const lists = await model.lists(groups.values.map((c) => ({ kind: 'popular', category: c })));
  return mergeRanked(lists, groups.because);
}
