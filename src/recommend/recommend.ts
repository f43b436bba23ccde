// One recommendation request end to end: read the live model version and the user's
// history (once each), pick the seeds and exclusions, fill the block along the chain.
import type { EventType } from '../config.ts';
import { buyAgainCandidates } from './buy-again.ts';
import { collaborative } from './collaborative.ts';
import { CHAINS, fill, ownSources } from './fallback.ts';
import { forYou as forYouRanking, GENERATOR_DEPTH, generatorList } from './for-you.ts';
import { Selection, type ItemFilter, type Picked } from './filters.ts';
import { categoryPopular, popular } from './popular.ts';
import { recentlyViewed } from './recently-viewed.ts';
import { sameBrand } from './same-brand.ts';
import { userSeeds } from './seeds.ts';
import type { Candidate, ModelView, RecStore, Source, Strategy, UserHistory } from './types.ts';

export interface RecRequest {
  strategy: Strategy;
  user?: string;
  /** Seed items given by the caller; when present they, not the user's history, are the seeds. */
  items: readonly string[];
  limit: number;
  exclude: readonly string[];
  /** Leave out what the user bought. */
  excludePurchased: boolean;
  filter: ItemFilter;
  /** Fill the block along the strategy's chain; false = the strategy's own items only. */
  fallback: boolean;
}

export interface RecOptions {
  /** History items that seed a user's recommendations. */
  maxSeeds: number;
  /** Length of a user's recently-viewed list (all of it is read for that strategy). */
  recentlyViewedCap: number;
  /** Affinity of a user to a viewed or bought item (the weights the build uses). */
  eventWeights: Record<EventType, number>;
  /** When "now" is for buy-again's due-ness (Unix ms): serving's day (servingOptions); undefined: each user's last purchase (offline). */
  now?: () => number;
}

/**
 * Personal results a store keeps until the user's data changes (src/store/redis/rec-store.ts):
 * a result is only kept if nothing it was made from changed while it was being made.
 */
export interface ResultMemo {
  /** The kept result, once every change to the user's data acknowledged before the call is known. */
  get(user: string, key: string): Promise<RecResult | undefined>;
  /** Taken before the user's history is read. */
  mark(): number;
  /** `users`: whose data the result was made from (the user, and the customer of a linked id). */
  keep(mark: number, users: readonly string[], key: string, result: RecResult): void;
}

/** A store that may keep personal results (src/store/redis/rec-store.ts); the offline evaluation's does not. */
export interface RememberingStore extends RecStore {
  readonly results?: ResultMemo | null;
}

export interface RecResult {
  model: ModelView;
  sources: Source[];
  items: Picked[];
  /** The user opted out of personalisation: the block was built without their history. */
  optedOut: boolean;
  /** Whether the user opted out was not known (Redis lost the flags): the block was built without their history. */
  withheld: boolean;
}

const NO_HISTORY: UserHistory = { viewed: [], bought: [] };

// Strategies whose blocks need the user's purchases with their times (buy-again scores them).
const NEEDS_PURCHASES: ReadonlySet<Strategy> = new Set(['buy-again', 'for-you', 'reactivation']);

/** One request's reads and derived state: what every generator works from. */
export interface Prepared {
  model: ModelView;
  history: UserHistory;
  seeds: Map<string, number>;
  seedIds: string[];
  selection: Selection;
  /** buy-again's "now" (Unix ms); undefined: the user's last purchase. */
  now: number | undefined;
}

/** Reads the live model version and the user's history (once each), picks seeds and exclusions. */
export async function prepare(store: RecStore, request: RecRequest, options: RecOptions): Promise<Prepared> {
  const { strategy, user, items } = request;
  const forYou = strategy === 'for-you';
  const viewedLimit = strategy === 'recently-viewed' || strategy === 'reactivation' || forYou ? options.recentlyViewedCap : options.maxSeeds;
  // Purchases are seeds of a user's collaborative and same-brand blocks (after the views; not when
  // items are given), and exclusions when asked: a buyer who never browsed still has brands.
  const boughtSeeds = items.length === 0 && (strategy === 'collaborative' || strategy === 'same-brand' || forYou);
  // Both reads start together: one Redis round trip for the user, none for a cached model version.
  const [model, history] = await Promise.all([
    store.model(),
    user === undefined ? NO_HISTORY : store.history(user, { viewed: viewedLimit, bought: boughtSeeds || request.excludePurchased, purchases: NEEDS_PURCHASES.has(strategy) }),
  ]);
  const seeds = items.length > 0 ? new Map(items.map((item) => [item, 1])) : userSeeds(history, boughtSeeds, options);
  // Built once, then owned by the selection: a big buyer's purchases are thousands of ids.
  const excluded = new Set(request.excludePurchased ? history.bought : []);
  for (const id of request.exclude) excluded.add(id);
  for (const id of items) excluded.add(id);
  return { model, history, seeds, seedIds: [...seeds.keys()], selection: new Selection(request.limit, request.filter, excluded), now: options.now?.() };
}

/** For you's generators' first candidates, in FOR_YOU_GENERATORS order (buy-again with every own item scored). */
export async function forYouLists(p: Prepared, category: string | undefined) {
  const lists = await Promise.all([
    buyAgainCandidates(p.model, p.history, p.now, 0),
    collaborative(p.model, p.seeds, p.selection.blocked, GENERATOR_DEPTH),
    recentlyViewed(p.history),
    sameBrand(p.model, p.seedIds),
    categoryPopular(p.model, p.seedIds, category),
    popular(p.model, category),
  ]);
  return lists.map((candidates) => generatorList(candidates, p.selection.blocked));
}

/** The block of `request`; a user's is the one kept by the store while their data and the model are unchanged. */
export async function recommend(store: RememberingStore, request: RecRequest, options: RecOptions): Promise<RecResult> {
  const memo = request.user === undefined ? null : (store.results ?? null);
  if (memo === null) return (await compute(store, request, options)).result;
  const user = request.user!;
  const key = JSON.stringify(request);
  const kept = await memo.get(user, key);
  if (kept !== undefined && kept.model.version === (await store.model()).version) return kept;
  const mark = memo.mark();
  const { result, history } = await compute(store, request, options);
  // Made without knowing whether the user opted out: never kept.
  if (!result.withheld) memo.keep(mark, history.customer === undefined ? [user] : [user, history.customer], key, result);
  return result;
}

async function compute(store: RecStore, request: RecRequest, options: RecOptions): Promise<{ result: RecResult; history: UserHistory }> {
  const p = await prepare(store, request, options);
  const { model, history, seeds, seedIds, selection, now } = p;
  const { strategy, filter } = request;
  const generate = async (source: Source | 'for-you'): Promise<Iterable<Candidate>> => {
    switch (source) {
      case 'recently-viewed':
        return recentlyViewed(history);
      case 'collaborative':
        return collaborative(model, seeds, selection.blocked, selection.budget);
      case 'same-brand':
        return sameBrand(model, seedIds);
      case 'category-popular':
        return categoryPopular(model, seedIds, filter.category);
      case 'popular':
        return popular(model, filter.category);
      case 'buy-again':
        return buyAgainCandidates(model, history, now);
      case 'for-you':
        return forYouRanking(model.blend, await forYouLists(p, filter.category));
    }
  };
  const sources = await fill(selection, model, request.fallback ? CHAINS[strategy] : ownSources(strategy), generate);
  return { result: { model, sources, items: selection.picked, optedOut: history.optedOut === true, withheld: history.withheld === true }, history };
}
