// Buy again: the user's own purchases most likely to be bought again soon (src/cf/repeat),
// scored with the build's fitted model and each item's repeat statistics of this version.
// Items nobody re-buys score under the model's minimum and are left out.
import { buyAgain, buyAgainModel } from '../cf/repeat/buy-again.ts';
import type { ItemRepeat } from '../cf/repeat/stats.ts';
import type { Candidate, ModelView, UserHistory } from './types.ts';

/**
 * `now` (Unix ms) is when the block is made; undefined: the user's last purchase (the offline
 * evaluation, whose test period starts there). `minProbability` overrides the model's (for-you
 * wants every own item, scored).
 */
export async function buyAgainCandidates(model: ModelView, history: UserHistory, now: number | undefined, minProbability?: number): Promise<Candidate[]> {
  const repeat = model.repeat;
  const purchases = history.purchases ?? [];
  if (repeat === null || purchases.length === 0) return [];
  const ids = [...new Set(purchases.map((p) => p.id))];
  const stats = new Map<string, ItemRepeat>();
  (await model.itemRepeats(ids)).forEach((s, i) => {
    if (s !== null) stats.set(ids[i], s);
  });
  const params = minProbability === undefined ? repeat.params : { ...repeat.params, minProbability };
  const ranked = buyAgain(
    purchases.map((p) => ({ item: p.id, ts: p.at / 1000 })),
    buyAgainModel({ globals: repeat.globals, item: (id) => stats.get(id) }, params),
    { now: now === undefined ? undefined : now / 1000 },
  );
  return ranked.map((r) => ({ id: r.item, score: r.score, repeat: r.because }));
}
