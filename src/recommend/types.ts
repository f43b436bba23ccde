// The vocabulary of src/recommend: what the strategies read (RecStore, ModelView) and what
// they produce (candidates). The strategies never see Redis; src/store/redis/rec-store.ts does.
import type { SlottedList } from '../cf/personalize.ts';
import type { BlendModel } from '../cf/repeat/blend.ts';
import type { BuyAgainParams } from '../cf/repeat/buy-again.ts';
import type { ItemRepeat, RepeatGlobals } from '../cf/repeat/stats.ts';

export const STRATEGIES = ['recently-viewed', 'same-brand', 'collaborative', 'popular', 'buy-again', 'for-you', 'reactivation'] as const;
export type Strategy = (typeof STRATEGIES)[number];
/** Which generator produced an item: a strategy (for-you's items name the generator that won), or the same-category popular fallback. */
export const SOURCES = ['recently-viewed', 'same-brand', 'collaborative', 'popular', 'buy-again', 'category-popular'] as const;
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

/** Why buy-again proposes an item: the user's own history of it. */
export interface RepeatReason {
  times_bought: number;
  /** Unix milliseconds. */
  last_bought: number;
  /** The user's typical days between purchases of the item (the item's, when they bought it once). */
  typical_gap_days: number;
  /** typical_gap_days − days since last bought: < 0 when overdue. */
  due_in_days: number;
}

/** An item a strategy proposes. `because` is the seed item that led to it; `repeat`, a re-buy's reason. */
export interface Candidate {
  id: string;
  score: number;
  because?: string;
  repeat?: RepeatReason;
  /** The generator that produced it, when not the chain's step (for-you). */
  source?: Source;
}

/** What buy-again serves with, fit by the build: its parameters and the catalog-wide statistics. */
export interface RepeatModel {
  globals: RepeatGlobals;
  params: BuyAgainParams;
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
  /** Buy-again's fitted model; null when this version has none (buy-again then proposes nothing). */
  readonly repeat: RepeatModel | null;
  /** Repeat statistics of the items, in order; null where the model has none for an item. */
  itemRepeats(ids: readonly string[]): Promise<(ItemRepeat | null)[]>;
  /** The for-you blend of this version; null when it has none (for-you then serves its first generator's list). */
  readonly blend: BlendModel | null;
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
  /** Every purchase occasion (one per item and day), when asked for: what buy-again scores. */
  purchases?: readonly Purchase[];
  /** The user opted out of personalisation: `viewed` and `bought` are empty, whatever Redis holds. */
  optedOut?: boolean;
  /** Whether the user opted out is not known right now (Redis lost the flags): nothing of theirs is used. */
  withheld?: boolean;
  /** The user is a linked id: this is their customer's history, read under the customer's id (docs/identity.md). */
  customer?: string;
}

/** One purchase occasion of an item. */
export interface Purchase {
  id: string;
  /** Unix milliseconds. */
  at: number;
}

/** What a block reads of a user's history. */
export interface HistoryWanted {
  /** The latest this many views. */
  viewed: number;
  /** The distinct purchased ids (seeds, exclusions). */
  bought: boolean;
  /** The purchase occasions with their times (buy-again). */
  purchases: boolean;
}

export interface RecStore {
  /** The live model version (refreshed in-process every few hundred ms, not per request). */
  model(): Promise<ModelView>;
  /** What `wanted` names of a user's history: always read live. */
  history(user: string, wanted: HistoryWanted): Promise<UserHistory>;
}
