// One recommendation request end to end: read the live model version and the user's
// history (once each), pick the seeds and exclusions, fill the block along the chain.
import type { EventType } from '../config.ts';
import { collaborative } from './collaborative.ts';
import { CHAINS, fill } from './fallback.ts';
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

export async function recommend(store: RecStore, request: RecRequest, options: RecOptions): Promise<RecResult> {
  const { strategy, user, items, filter } = request;
  const viewedLimit = strategy === 'recently-viewed' ? options.recentlyViewedCap : options.maxSeeds;
  // Purchases are seeds of a user's collaborative block (not when items are given), and exclusions when asked.
  const boughtSeeds = items.length === 0 && strategy === 'collaborative';
  // Both reads start together: one Redis round trip for the user, none for a cached model version.
  const [model, history] = await Promise.all([
    store.model(),
    user === undefined ? NO_HISTORY : store.history(user, viewedLimit, boughtSeeds || request.excludePurchased),
  ]);
  const seeds = items.length > 0 ? new Map(items.map((item) => [item, 1])) : userSeeds(history, boughtSeeds, options);
  const seedIds = [...seeds.keys()];
  // Built once, then owned by the selection: a big buyer's purchases are thousands of ids.
  const excluded = new Set(request.excludePurchased ? history.bought : []);
  for (const id of request.exclude) excluded.add(id);
  for (const id of items) excluded.add(id);
  const selection = new Selection(request.limit, filter, excluded);

  const generate = (source: Source): Promise<Iterable<Candidate>> | Iterable<Candidate> => {
    switch (source) {
      case 'recently-viewed': return recentlyViewed(history);
      case 'collaborative': return collaborative(model, seeds, selection.blocked, selection.budget);
      case 'same-brand': return sameBrand(model, seedIds);
      case 'category-popular': return categoryPopular(model, seedIds, filter.category);
      case 'popular': return popular(model, filter.category);
    }
  };
  const sources = await fill(selection, model, request.fallback ? CHAINS[strategy] : [strategy], generate);
  return { model, sources, items: selection.picked, optedOut: history.optedOut === true, withheld: history.withheld === true };
}
