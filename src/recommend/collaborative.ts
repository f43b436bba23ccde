import { personalize, type SlottedList } from '../cf/personalize.ts';
import type { Candidate, ModelView } from './types.ts';

/**
 * Item-based collaborative filtering over the stored neighbour lists: score(j) = Σ over the
 * seeds of weight(seed) · similarity(seed → j), seeds and `exclude` left out, at most `limit`.
 * One seed of weight 1 is "bought this, also bought"; a user's history is personalisation.
 */
export async function collaborative(model: ModelView, seeds: ReadonlyMap<string, number>, exclude: ReadonlySet<string>, limit: number): Promise<Iterable<Candidate>> {
  const items = [...seeds.keys()];
  const lists = await model.neighbours(items);
  if (items.length === 1) return oneSeed(items[0], seeds.get(items[0])!, lists[0], exclude);
  const ranked = personalize(
    items.map((item, i) => ({ item, weight: seeds.get(item)!, neighbours: lists[i] })),
    { limit, exclude },
  );
  return ranked.map((r) => ({ id: r.item, score: r.score, because: r.because }));
}

/**
 * What personalize() returns for one seed, without re-ranking: the build stores each list in
 * personalize()'s order (model-format.ts), so it is walked lazily, only as far as the block needs.
 */
function* oneSeed(seed: string, weight: number, list: SlottedList, exclude: ReadonlySet<string>): Generator<Candidate> {
  for (let k = 0; k < list.ids.length; k++) {
    const id = list.ids[k];
    const score = weight * list.scores[k];
    if (score <= 0) return;
    if (id !== seed && !exclude.has(id)) yield { id, score, because: seed };
  }
}
