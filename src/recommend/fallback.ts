// Fills a block from a chain of sources: the requested strategy first, then ever broader
// ones, until the block is full or the catalog has nothing more that fits.
import type { Selection } from './filters.ts';
import type { Candidate, ModelView, Source, Strategy } from './types.ts';

/** Each strategy's chain, most specific first. */
export const CHAINS: Record<Strategy, readonly (Source | 'for-you')[]> = {
  'recently-viewed': ['recently-viewed', 'collaborative', 'same-brand', 'category-popular', 'popular'],
  collaborative: ['collaborative', 'same-brand', 'category-popular', 'popular'],
  'same-brand': ['same-brand', 'category-popular', 'popular'],
  popular: ['popular'],
  // What a shopper re-buys, then what the shop sells most: measured better than co-purchase here.
  'buy-again': ['buy-again', 'popular'],
  'for-you': ['for-you', 'popular'],
  // Win-back mail: what they looked at and what goes with it, else what they re-buy, else best sellers.
  reactivation: ['recently-viewed', 'collaborative', 'buy-again', 'popular'],
};

/** A strategy's own sources, its block with fallback=false: reactivation's are its first two steps. */
export function ownSources(strategy: Strategy): readonly (Source | 'for-you')[] {
  return strategy === 'reactivation' ? CHAINS.reactivation.slice(0, 2) : [strategy];
}

/** Runs the sources in order while the block has room; returns those that produced items. */
export async function fill(
  selection: Selection,
  model: ModelView,
  sources: readonly (Source | 'for-you')[],
  generate: (source: Source | 'for-you') => Promise<Iterable<Candidate>> | Iterable<Candidate>,
): Promise<Source[]> {
  for (const source of sources) {
    if (selection.remaining <= 0) break;
    await take(selection, model, await generate(source), source);
  }
  // The sources that produced items, in order of first appearance (for-you's are its generators).
  return [...new Set(selection.picked.map((p) => p.source))];
}

/** Offers candidates in rank order, reading catalog fields a chunk at a time (one batched read each). */
async function take(selection: Selection, model: ModelView, candidates: Iterable<Candidate>, via: Source | 'for-you'): Promise<void> {
  const it = candidates[Symbol.iterator]();
  let exhausted = false;
  while (!exhausted && selection.remaining > 0) {
    // Just the room left when nothing can reject a candidate; else a little more, so that a
    // few rejections do not cost another read.
    const want = Math.min(selection.budget, Math.max(2 * selection.remaining, 8));
    const chunk: Candidate[] = [];
    while (chunk.length < want) {
      const next = it.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      if (!selection.blocked.has(next.value.id)) chunk.push(next.value);
    }
    if (chunk.length === 0) return;
    const fields = await model.items(chunk.map((c) => c.id));
    for (let i = 0; i < chunk.length && selection.remaining > 0; i++) selection.offer(chunk[i], fields[i], chunk[i].source ?? (via === 'for-you' ? 'popular' : via), via);
  }
}
