// The vocabulary of src/recommend: what the strategies read (RecStore, ModelView) and what
// they produce (candidates). The strategies never see Redis; src/store/rec-store.ts does.
import type { SlottedList } from '../cf/personalize.ts';

export const STRATEGIES = ['recently-viewed', 'same-brand', 'collaborative', 'popular'] as const;
export type Strategy = (typeof STRATEGIES)[number];
/** Which strategy produced an item: a strategy, or the same-category popular fallback. */
export const SOURCES = [...STRATEGIES, 'category-popular'] as const;
export type Source = (typeof SOURCES)[number];

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

/** The catalog fields an answer may carry with each item (`fields=`). */
export const FIELDS = ['title', 'brand', 'category', 'price', 'currency', 'url', 'image_url', 'in_stock'] as const;
export type Field = (typeof FIELDS)[number];

/** An item a strategy proposes. `because` is the seed item that led to it. */
export interface Candidate {
  id: string;
  score: number;
  because?: string;
}

/** A ranked list as the build stores it: ids and scores, best first. */
export type RankedList = PackedNeighbours;

export type ListRef = { kind: 'popular'; category?: string } | { kind: 'brand'; brand: string };

/**
 * One model version, fixed for the whole request: every read goes to this version, so an
 * answer never mixes two builds even when a new one goes live mid-request.
 */
export interface ModelView {
  /** null while no build has been published. */
  readonly version: number | null;
  /** When the build ran (ISO time), from its meta key. */
  readonly builtAt: string | null;
  /** Neighbour lists of the items, in order, numbered in this version's slots; an empty list where an item has none. */
  neighbours(items: readonly string[]): Promise<SlottedList[]>;
  /** Catalog fields of the items, in order; null where the model does not know an item. */
  items(ids: readonly string[]): Promise<(CatalogFields | null)[]>;
  /** Ranked lists (popular overall or per category, a brand's items), in order. */
  lists(refs: readonly ListRef[]): Promise<RankedList[]>;
}

export interface ViewedItem {
  id: string;
  /** View time, Unix milliseconds. */
  at: number;
}

/** What the API knows of a user right now (kept in Redis by the events API and the build). */
export interface UserHistory {
  /** Newest first. */
  viewed: ViewedItem[];
  /** Distinct, newest purchase first (equal times: smaller id first); empty when not asked for (RecStore.history). */
  bought: string[];
  /** The user opted out of personalisation: `viewed` and `bought` are empty, whatever Redis holds. */
  optedOut?: boolean;
  /** Whether the user opted out is not known right now (Redis lost the flags): nothing of theirs is used. */
  withheld?: boolean;
}

export interface RecStore {
  /** The live model version (refreshed in-process every few hundred ms, not per request). */
  model(): Promise<ModelView>;
  /** A user's latest `viewedLimit` views and, when `withBought`, every purchase: always read live. */
  history(user: string, viewedLimit: number, withBought: boolean): Promise<UserHistory>;
}
