// A model version's data, as one fit makes it from the interactions and the catalog: item-item
// neighbour lists and the popularity rankings (overall, per category, per brand). The build
// publishes it to Redis (src/store/redis/model-publisher.ts); the offline evaluation serves it
// from memory (src/model/memory-store.ts) through the same recommend(). One fitting entry,
// so what is measured is what is served.
import type { Config, ModelKind, Similarity } from '../config.ts';
import { fitEase } from '../cf/ease.ts';
import { latestTime, type Interactions } from '../cf/interactions.ts';
import { fitItemKnnItems, fitItemKnnRange, prepareItemKnn, type ItemKnnInput, type ItemKnnOptions } from '../cf/item-knn.ts';
import type { NeighbourLists } from '../cf/neighbours.ts';
import { itemPopularity, rankByGroup, rankItems, type RankedItems } from '../cf/popularity.ts';
import type { BlendModel } from '../cf/repeat/blend.ts';
import type { ItemRepeat } from '../cf/repeat/stats.ts';
import type { CatalogFields, RepeatModel } from '../recommend/types.ts';

export interface ModelSpec {
  model: ModelKind;
  similarity: Similarity;
  /** Neighbours kept per item. */
  neighbours: number;
  /** Keep every neighbour (SAR's untruncated item-item matrix) instead of the best `neighbours`. */
  untruncated: boolean;
  minSupport: number;
  /** Time decay of popularity and, with `weighted`, of the matrix (0 = none). */
  halfLifeDays: number;
  /** Similarity on the weighted (and decayed) matrix instead of the binary one (not for llr). */
  weighted: boolean;
  easeLambda: number;
  easeMaxItems: number;
  /** Items kept per popularity list. */
  listLength: number;
}

export interface ModelData {
  /** e.g. "itemknn:llr", "ease". */
  name: string;
  neighbours: NeighbourLists;
  popular: RankedItems;
  byCategory: ReadonlyMap<string, RankedItems>;
  byBrand: ReadonlyMap<string, RankedItems>;
  /** Every item with events or in the catalog; an item with events but no catalog row has empty fields. */
  catalog: ReadonlyMap<string, CatalogFields>;
  /** Buy-again's fitted model and each item's repeat statistics; absent when none was fit. */
  repeat?: { model: RepeatModel; items: ReadonlyMap<string, ItemRepeat> };
  /** The for-you blend; absent when none was fit. */
  blend?: BlendModel;
}

/** Item-kNN over the items of `input`: one thread here, worker_threads in the build. */
export type NeighbourFit = (itemIds: string[], input: ItemKnnInput, options: ItemKnnOptions) => Promise<NeighbourLists> | NeighbourLists;

export const fitInProcess: NeighbourFit = (itemIds, input, options) => ({ itemIds, ...fitItemKnnRange(input, 0, itemIds.length, options) });

/**
 * The lists of `wanted` items only, the others left empty: all that seeds known in advance read
 * (for-you's fit: its validation users' items), for a fraction of a whole model's time and
 * memory. Each item's list is what the whole fit gives it: ranges are independent.
 */
export const fitOnly =
  (wanted: ReadonlySet<string>): NeighbourFit =>
  (itemIds, input, options) => ({
    itemIds,
    ...fitItemKnnItems(
      input,
      Uint32Array.from(itemIds.keys()).filter((i) => wanted.has(itemIds[i])),
      options,
    ),
  });

/** The build's model, as configured (BUILD_* variables). */
export function modelSpec(config: Config): ModelSpec {
  const b = config.build;
  return {
    model: b.model,
    similarity: b.similarity,
    neighbours: b.neighbours,
    untruncated: false,
    minSupport: b.minSupport,
    halfLifeDays: b.halfLifeDays,
    weighted: b.halfLifeDays > 0,
    easeLambda: b.easeLambda,
    easeMaxItems: b.easeMaxItems,
    listLength: b.listLength,
  };
}

export function modelName(spec: Pick<ModelSpec, 'model' | 'similarity'>): string {
  return spec.model === 'ease' ? 'ease' : `itemknn:${spec.similarity}`;
}

/** An item with events but no catalog row still gets a record: a block can show its id. */
export function catalogFields(id: string, item: CatalogFields | undefined): CatalogFields {
  return item ?? { id, title: null, brand: null, category: null, price: null, currency: null, url: null, image_url: null, in_stock: true };
}

function groupMap(catalog: ReadonlyMap<string, CatalogFields>, field: 'brand' | 'category'): Map<string, string> {
  const groups = new Map<string, string>();
  for (const item of catalog.values()) if (item[field] !== null) groups.set(item.id, item[field]!);
  return groups;
}

export async function fitNeighbours(x: Interactions, spec: ModelSpec, fit: NeighbourFit = fitInProcess): Promise<NeighbourLists> {
  const now = latestTime(x);
  if (spec.model === 'ease') {
    return fitEase(x, { lambda: spec.easeLambda, maxItems: spec.easeMaxItems, k: spec.neighbours, weighted: spec.weighted, halfLifeDays: spec.halfLifeDays, now });
  }
  // LLR is defined on counts only: it stays unweighted.
  const weighted = spec.weighted && spec.similarity !== 'llr';
  const knn: ItemKnnOptions = {
    similarity: spec.similarity,
    k: spec.untruncated ? x.itemIds.length : spec.neighbours,
    minSupport: spec.minSupport,
    weighted,
    halfLifeDays: spec.halfLifeDays,
    now,
  };
  return fit(x.itemIds, prepareItemKnn(x, knn), knn);
}

/** Popularity lists hold items with events only: a product nobody touched is no recommendation. */
export function popularityLists(
  x: Interactions,
  catalog: ReadonlyMap<string, CatalogFields>,
  spec: Pick<ModelSpec, 'halfLifeDays' | 'listLength'>,
): Pick<ModelData, 'popular' | 'byCategory' | 'byBrand'> {
  const popularity = itemPopularity(x, { halfLifeDays: spec.halfLifeDays, now: latestTime(x) });
  return {
    popular: rankItems(popularity, x.itemIds, spec.listLength),
    byCategory: rankByGroup(popularity, x.itemIds, groupMap(catalog, 'category'), spec.listLength),
    byBrand: rankByGroup(popularity, x.itemIds, groupMap(catalog, 'brand'), spec.listLength),
  };
}

/** Every item the model can show: the catalog's, and those with events. */
export function modelCatalog(x: Interactions, catalog: ReadonlyMap<string, CatalogFields>): Map<string, CatalogFields> {
  const all = new Map(catalog);
  for (const id of x.itemIds) if (!all.has(id)) all.set(id, catalogFields(id, undefined));
  return all;
}

/** The whole model of `spec` from interactions and catalog. */
export async function fitModel(x: Interactions, catalog: ReadonlyMap<string, CatalogFields>, spec: ModelSpec, fit: NeighbourFit = fitInProcess): Promise<ModelData> {
  return {
    name: modelName(spec),
    neighbours: await fitNeighbours(x, spec, fit),
    ...popularityLists(x, catalog, spec),
    catalog: modelCatalog(x, catalog),
  };
}
