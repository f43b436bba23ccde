import type { CatalogFields } from '../store/model-format.ts';
import type { ModelView } from './types.ts';

/**
 * The distinct values of a catalog field (brand, category) over the seeds, in seed order,
 * each with the first seed that has it: the lists to read and the `because` of each.
 */
export async function seedGroups(model: ModelView, seeds: readonly string[], field: 'brand' | 'category'): Promise<{ values: string[]; because: string[] }> {
  const fields: (CatalogFields | null)[] = await model.items(seeds);
  const firstSeed = new Map<string, string>();
  fields.forEach((f, i) => {
    const value = f?.[field];
    if (value && !firstSeed.has(value)) firstSeed.set(value, seeds[i]);
  });
  return { values: [...firstSeed.keys()], because: [...firstSeed.values()] };
}
