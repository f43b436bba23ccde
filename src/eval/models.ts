// The strategies the evaluation compares, each fit on train with the functions
// the build uses (fitItemKnn, fitEase, itemPopularity) and queried the way the API
// queries them (affinity + personalize over neighbour lists).

import { SIMILARITIES, type Similarity } from '../config.ts';
import { affinity } from '../cf/affinity.ts';
import { fitEase } from '../cf/ease.ts';
import type { Interactions } from '../cf/interactions.ts';
import { fitItemKnn } from '../cf/item-knn.ts';
import { neighboursOf, type NeighbourLists } from '../cf/neighbours.ts';
import { personalize } from '../cf/personalize.ts';
import { itemPopularity, rankByGroup, rankItems, type RankedItems } from '../cf/popularity.ts';
import { mergeRanked } from '../recommend/merge.ts';
import type { EvalUser, Recommender } from './protocol.ts';

/**
 * `popular`, `recently-viewed`, `same-brand`, `itemknn:<similarity>`, `ease`, and
 * `sar[:<similarity>]` (Microsoft Recommenders' SAR: item-kNN without neighbour
 * truncation, jaccard and decayed affinity by default), each with optional flags:
 * `+decay` time-decays seed weights (and popularity, or a weighted matrix);
 * `+weighted` fits on summed event weights / ratings instead of a binary matrix.
 */
export interface ModelSpec {
  name: string;
  kind: 'popular' | 'recently-viewed' | 'same-brand' | 'itemknn' | 'sar' | 'ease';
  similarity: Similarity;
  decay: boolean;
  weighted: boolean;
}

export interface ModelParams {
  /** Neighbours kept per item (item-kNN, EASE). */
  neighbours: number;
  minSupport: number;
  halfLifeDays: number;
  easeLambda: number;
  easeItems: number;
  /** item → brand, for same-brand. */
  brands?: ReadonlyMap<string, string>;
}

const KINDS: readonly ModelSpec['kind'][] = ['popular', 'recently-viewed', 'same-brand', 'itemknn', 'sar', 'ease'];
const FLAGS = ['decay', 'weighted'] as const;

export function parseModel(text: string): ModelSpec {
  const [base, ...flags] = text.trim().split('+');
  const [kind, similarity] = base.split(':');
  if (!(KINDS as readonly string[]).includes(kind)) throw new Error(`unknown model "${text}" (kinds: ${KINDS.join(', ')})`);
  if (similarity !== undefined && !(kind === 'itemknn' || kind === 'sar')) throw new Error(`"${kind}" takes no similarity`);
  if (similarity !== undefined && !(SIMILARITIES as readonly string[]).includes(similarity)) {
    throw new Error(`unknown similarity "${similarity}" (one of ${SIMILARITIES.join(', ')})`);
  }
  for (const flag of flags) {
    if (!(FLAGS as readonly string[]).includes(flag)) throw new Error(`unknown flag "+${flag}" (flags: ${FLAGS.join(', ')})`);
  }
  return {
    name: text.trim(),
    kind: kind as ModelSpec['kind'],
    similarity: (similarity ?? (kind === 'sar' ? 'jaccard' : 'cosine')) as Similarity,
    decay: kind === 'sar' || flags.includes('decay'),
    weighted: flags.includes('weighted'),
  };
}

/** Fits the model on `train` (all the work a build would do) and returns its recommender. */
export function fitModel(spec: ModelSpec, train: Interactions, now: number, params: ModelParams): Recommender {
  const halfLifeDays = spec.decay ? params.halfLifeDays : 0;
  switch (spec.kind) {
    case 'popular': {
      const ranked = rankItems(itemPopularity(train, { halfLifeDays, now }), train.itemIds);
      return (user, k) => firstAllowed(ranked.ids, user, k);
    }
    case 'recently-viewed':
      return (user, k) => firstAllowed(user.history.map((e) => e.item).reverse(), user, k);
    case 'same-brand':
      return sameBrand(train, now, halfLifeDays, params);
    case 'itemknn':
    case 'sar': {
      const model = fitItemKnn(train, {
        similarity: spec.similarity,
        k: spec.kind === 'sar' ? train.itemIds.length : params.neighbours,
        minSupport: params.minSupport,
        weighted: spec.weighted,
        halfLifeDays,
        now,
      });
      // Seeds mirror the matrix (1 per item unless weighted); SAR weights them by summed ratings.
      return collaborative(model, { now, halfLifeDays, binary: spec.kind === 'itemknn' && !spec.weighted });
    }
    case 'ease': {
      const model = fitEase(train, {
        lambda: params.easeLambda,
        maxItems: params.easeItems,
        k: params.neighbours,
        weighted: spec.weighted,
        halfLifeDays,
        now,
      });
      // Seeds as the rows of X the model was fit on: 1 per item unless weighted.
      return collaborative(model, { now, halfLifeDays, binary: !spec.weighted });
    }
  }
}

function collaborative(model: NeighbourLists, seeds: { now: number; halfLifeDays: number; binary: boolean }): Recommender {
  const index = new Map(model.itemIds.map((id, i) => [id, i]));
  const lists = new Map<string, ReturnType<typeof neighboursOf>>();
  const listOf = (item: string) => {
    let list = lists.get(item);
    if (!list) lists.set(item, (list = neighboursOf(model, index.get(item)!)));
    return list;
  };
  return (user, k) => {
    const weights = affinity(user.history, seeds);
    const input = [...weights].map(([item, weight]) => ({ item, weight, neighbours: listOf(item) }));
    return personalize(input, { limit: k, exclude: user.exclude }).map((r) => r.item);
  };
}

/**
 * As the API's same-brand strategy: the brands of the user's items (most recent
 * first), their items merged by popularity (mergeRanked), the user's own items
 * (the seeds) and excluded items skipped.
 */
function sameBrand(train: Interactions, now: number, halfLifeDays: number, params: ModelParams): Recommender {
  const brands = params.brands;
  if (!brands) throw new Error('same-brand needs --products (item → brand)');
  const byBrand = rankByGroup(itemPopularity(train, { halfLifeDays, now }), train.itemIds, brands);
  return (user, k) => {
    const lists: RankedItems[] = [];
    const seen = new Set<string>();
    for (let e = user.history.length - 1; e >= 0; e--) {
      const brand = brands.get(user.history[e].item);
      if (brand === undefined || seen.has(brand)) continue;
      seen.add(brand);
      const list = byBrand.get(brand);
      if (list) lists.push(list);
    }
    const skip = new Set([...user.exclude, ...user.history.map((e) => e.item)]);
    const out: string[] = [];
    for (const candidate of mergeRanked(lists, [], skip)) {
      if (out.length === k) break;
      out.push(candidate.id);
    }
    return out;
  };
}

function firstAllowed(ranked: readonly string[], user: EvalUser, k: number): string[] {
  const out: string[] = [];
  const taken = new Set<string>();
  for (const id of ranked) {
    if (out.length === k) break;
    if (user.exclude.has(id) || taken.has(id)) continue;
    taken.add(id);
    out.push(id);
  }
  return out;
}
