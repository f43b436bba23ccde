import { personalize } from '../cf/personalize.ts';
import type { Candidate, ModelView } from './types.ts';

/**
 * Item-based collaborative filtering over the stored neighbour lists: score(j) = Σ over the
 * seeds of weight(seed) · similarity(seed → j), seeds and `exclude` left out, at most `limit`.
 * One seed of weight 1 is "bought this, also bought"; a user's history is personalisation.
 */
export async function collaborative(
  model: ModelView,
  seeds: ReadonlyMap<string, number>,
  exclude: ReadonlySet<string>,
  limit: number,
): Promise<Candidate[]> {
  const items = [...seeds.keys()];
  const lists = await model.neighbours(items);
  const ranked = personalize(items.map((item, i) => ({ item, weight: seeds.get(item)!, neighbours: lists[i] })), { limit, exclude });
  return ranked.map((r) => ({ id: r.item, score: r.score, because: r.because }));
}
