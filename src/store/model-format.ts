// How model data is encoded in Redis values: written by the build, read by the API.
import type { NeighbourLists } from '../cf/neighbours.ts';

/** The catalog fields a recommendation block needs, stored per item and version. */
export interface CatalogFields {
  id: string;
  title: string | null;
  brand: string | null;
  category: string | null;
  price: number | null;
  currency: string | null;
  url: string | null;
  image_url: string | null;
  in_stock: boolean;
}

/** Neighbour list as stored: ids and scores best first, the shape personalize() reads. */
export interface PackedNeighbours {
  ids: string[];
  scores: number[];
}

/** JSON of item i's neighbour list; 6 significant digits keep order and halve the bytes. */
export function packNeighbours(model: NeighbourLists, item: number): string {
  const ids: string[] = [];
  const scores: number[] = [];
  for (let k = model.offsets[item]; k < model.offsets[item + 1]; k++) {
    ids.push(model.itemIds[model.neighbours[k]]);
    scores.push(Number(model.scores[k].toPrecision(6)));
  }
  return JSON.stringify({ ids, scores } satisfies PackedNeighbours);
}

export function unpackNeighbours(raw: string | null): PackedNeighbours {
  return raw ? (JSON.parse(raw) as PackedNeighbours) : { ids: [], scores: [] };
}
