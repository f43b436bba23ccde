// A learned blend of candidate generators (buy-again, collaborative, recently viewed, same
// brand, popular...): each candidate of a user gets, per generator, its score normalised by
// the generator's best for that user (or the score itself where the generator's scores are
// calibrated probabilities, so "every own item is unlikely" stays visible: that is how the
// blend learns when not to repeat) and its reciprocal rank, 0 where the generator did not
// propose it. The weights are fit on a validation split (fitBlend); this module only scores.

export interface GeneratorList {
  /** Best first. */
  items: readonly string[];
  scores: readonly number[];
}

export interface GeneratorSpec {
  name: string;
  /** Scores are probabilities, comparable across users: used as they are, not divided by the user's best. */
  calibrated?: boolean;
}

export interface BlendModel {
  generators: GeneratorSpec[];
  /** One per blendFeatureNames(generators). */
  weights: number[];
}

export interface Candidates {
  items: string[];
  /** Row-major, blendFeatureNames(generators).length per item. */
  features: Float64Array;
}

export interface Blended {
  item: string;
  score: number;
  /** The generator whose weighted features added most to the score. */
  source: string;
}

export function blendFeatureNames(generators: readonly GeneratorSpec[]): string[] {
  return generators.flatMap((g) => [`${g.name}:score`, `${g.name}:rank`]);
}

/** The union of the lists (first seen order) and each candidate's features; `lists[g]` is generator g's. */
export function candidateFeatures(generators: readonly GeneratorSpec[], lists: readonly GeneratorList[]): Candidates {
  if (lists.length !== generators.length) throw new RangeError(`expected ${generators.length} lists, got ${lists.length}`);
  const d = 2 * generators.length;
  const row = new Map<string, number>();
  const items: string[] = [];
  for (const list of lists) for (const item of list.items) if (!row.has(item)) row.set(item, items.push(item) - 1);
  const features = new Float64Array(items.length * d);
  lists.forEach((list, g) => {
    const best = Math.max(...list.scores.map(Math.abs), 0);
    list.items.forEach((item, rank) => {
      const r = row.get(item)! * d + 2 * g;
      if (features[r + 1] > 0) return; // a repeated item keeps its best rank
      features[r] = generators[g].calibrated ? list.scores[rank] : best > 0 ? list.scores[rank] / best : 0;
      features[r + 1] = 1 / (rank + 1);
    });
  });
  return { items, features };
}

/** The candidates ranked by the blend, best first (ties: first seen), `exclude`d items left out. */
export function blend(model: BlendModel, lists: readonly GeneratorList[], options: { limit?: number; exclude?: ReadonlySet<string> } = {}): Blended[] {
  const { items, features } = candidateFeatures(model.generators, lists);
  const d = model.weights.length;
  const out: (Blended & { at: number })[] = [];
  items.forEach((item, r) => {
    if (options.exclude?.has(item)) return;
    let score = 0;
    let strongest = -Infinity;
    let source = 0;
    for (let g = 0; g < model.generators.length; g++) {
      const part = model.weights[2 * g] * features[r * d + 2 * g] + model.weights[2 * g + 1] * features[r * d + 2 * g + 1];
      score += part;
      if (features[r * d + 2 * g + 1] > 0 && part > strongest) {
        strongest = part;
        source = g;
      }
    }
    out.push({ item, score, source: model.generators[source].name, at: r });
  });
  out.sort((a, b) => b.score - a.score || a.at - b.at);
  return out.slice(0, options.limit ?? Infinity).map(({ item, score, source }) => ({ item, score, source }));
}
