// For you: the candidates of every generator (buy-again, the user's collaborative block, their
// recent views, their brands, their categories' best sellers, popular) combined by the blend the build fit for this shop
// (src/cf/repeat/blend.ts): it learns from the shop's own data how much re-buying, browsing and
// co-purchase each count, and when not to repeat. Each item keeps the source of the generator
// that weighed most in its score, and that generator's reason (because, repeat).
import { blend, type BlendModel, type GeneratorList } from '../cf/repeat/blend.ts';
import type { Candidate, Source } from './types.ts';

/** How many candidates each generator offers the blend. */
export const GENERATOR_DEPTH = 30;

/** The blend's generators, in the order of the build's fit (names are sources). */
export const FOR_YOU_GENERATORS: readonly { name: Source; calibrated?: boolean }[] = [
  { name: 'buy-again', calibrated: true },
  { name: 'collaborative' },
  { name: 'recently-viewed' },
  { name: 'same-brand' },
  { name: 'category-popular' },
  { name: 'popular' },
];

/** The first `GENERATOR_DEPTH` candidates of an iterable, as the blend's list and as candidates by id. */
export function generatorList(candidates: Iterable<Candidate>, exclude: ReadonlySet<string>): { list: GeneratorList; byId: Map<string, Candidate> } {
  const items: string[] = [];
  const scores: number[] = [];
  const byId = new Map<string, Candidate>();
  for (const c of candidates) {
    if (items.length === GENERATOR_DEPTH) break;
    if (exclude.has(c.id) || byId.has(c.id)) continue;
    items.push(c.id);
    scores.push(c.score);
    byId.set(c.id, c);
  }
  return { list: { items, scores }, byId };
}

const GENERATOR_INDEX = new Map(FOR_YOU_GENERATORS.map((g, i) => [g.name, i]));

/**
 * The blended ranking of the generators' lists (in FOR_YOU_GENERATORS order). Without a blend
 * (a model built before it, or with too little data to fit one): the lists one after another.
 * Each candidate carries the generator that weighed most in its score as `source`, and that
 * generator's reason. Lazy: a block takes the first few of some 180 candidates.
 */
export function* forYou(model: BlendModel | null, lists: readonly { list: GeneratorList; byId: Map<string, Candidate> }[]): Generator<Candidate> {
  const ranked =
    model !== null
      ? blend(
          model,
          lists.map((l) => l.list),
        )
      : lists.flatMap((l, g) => l.list.items.map((item, k) => ({ item, score: l.list.scores[k], source: FOR_YOU_GENERATORS[g].name })));
  const seen = new Set<string>();
  for (const r of ranked) {
    if (seen.has(r.item)) continue;
    seen.add(r.item);
    const g = GENERATOR_INDEX.get(r.source as Source)!;
    yield { ...lists[g].byId.get(r.item), id: r.item, score: r.score, source: FOR_YOU_GENERATORS[g].name };
  }
}
