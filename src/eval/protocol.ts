// The offline protocol: who is evaluated, what counts as relevant, what a model
// may not recommend. Follows Microsoft Recommenders: users present in both train
// and test; items seen in train are removed from the ranking.

import type { UserEvent } from '../cf/affinity.ts';
import type { Interactions } from '../cf/interactions.ts';
import type { UserHistory } from '../recommend/types.ts';
import { catalogCoverage, meanRankingMetrics, type RankingMetrics } from './metrics.ts';

/** A train event as the API would have read it: a view, or a purchase (any other interaction). */
export interface HistoryEvent extends UserEvent {
  view: boolean;
}

export interface EvalUser {
  id: string;
  /** The user's train events, oldest first: what the API would read from their history. */
  history: HistoryEvent[];
  /** Items the model may not return. */
  exclude: ReadonlySet<string>;
  relevant: ReadonlySet<string>;
}

export interface EvalSet {
  users: EvalUser[];
  /** Distinct items in train: the denominator of catalog coverage. */
  trainItems: number;
  /** End of train (latest train event): "now" for time decay, as SAR uses. */
  now: number;
}

export interface EvalOptions {
  /**
   * false (default, MSR): a user's train items are excluded from the ranking, and
   * relevant = test items not in their train (identical to MSR when no test pair
   * repeats a train pair, as in rating data). true ("buy again" allowed): nothing
   * is excluded and relevant = all of the user's test items.
   */
  repeats?: boolean;
}

/** A model under evaluation: the top `k` items for one user. */
export type Recommender = (user: EvalUser, k: number) => Promise<readonly string[]> | readonly string[];

export interface ModelResult extends RankingMetrics {
  coverage: number;
}

/** Evaluation users from a split; train and test must share id dictionaries (see selectRows). */
export function evalSet(train: Interactions, test: Interactions, options: EvalOptions = {}): EvalSet {
  const history = new Map<number, HistoryEvent[]>();
  const trainItems = new Set<number>();
  let now = 0;
  for (let r = 0; r < train.users.length; r++) {
    const u = train.users[r];
    let events = history.get(u);
    if (!events) history.set(u, (events = []));
    events.push({ item: train.itemIds[train.items[r]], weight: train.weights[r], ts: train.times[r], view: train.views?.[r] === 1 });
    trainItems.add(train.items[r]);
    now = Math.max(now, train.times[r]);
  }
  const testItems = new Map<number, Set<string>>();
  for (let r = 0; r < test.users.length; r++) {
    const u = test.users[r];
    if (!history.has(u)) continue;
    let items = testItems.get(u);
    if (!items) testItems.set(u, (items = new Set()));
    items.add(test.itemIds[test.items[r]]);
  }
  const users: EvalUser[] = [];
  for (const [u, items] of [...testItems].sort((a, b) => a[0] - b[0])) {
    const events = history.get(u)!.sort((a, b) => a.ts - b.ts);
    const seen = new Set(events.map((e) => e.item));
    const relevant = options.repeats ? items : new Set([...items].filter((i) => !seen.has(i)));
    if (relevant.size > 0) {
      users.push({ id: train.userIds[u], history: events, exclude: options.repeats ? new Set() : seen, relevant });
    }
  }
  return { users, trainItems: trainItems.size, now };
}

/** The share of the users' relevant items they had bought before (in train): all that re-buying can find. */
export function ownItemShare(users: readonly EvalUser[]): number {
  let own = 0;
  let relevant = 0;
  for (const user of users) {
    const bought = new Set(user.history.filter((e) => !e.view).map((e) => e.item));
    for (const item of user.relevant) if (bought.has(item)) own++;
    relevant += user.relevant.size;
  }
  return relevant > 0 ? own / relevant : 0;
}

/** At most `n` of `users`, evenly spread over their (id) order: the same every run. */
export function evenSample<T>(users: readonly T[], n: number): T[] {
  if (users.length <= n) return [...users];
  return Array.from({ length: n }, (_, i) => users[Math.floor((i * users.length) / n)]);
}

/** What serving would read of an evaluated user: views, purchases, and each purchase occasion. */
export function servedHistory(user: EvalUser, viewedCap: number): UserHistory {
  const latest = (view: boolean) => {
    const at = new Map<string, number>();
    for (const e of user.history) if (e.view === view && e.ts >= (at.get(e.item) ?? -Infinity)) at.set(e.item, e.ts);
    return [...at].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  };
  return {
    viewed: latest(true)
      .slice(0, viewedCap)
      .map(([id, ts]) => ({ id, at: ts * 1000 })),
    bought: latest(false).map(([id]) => id),
    purchases: user.history.filter((e) => !e.view).map((e) => ({ id: e.item, at: e.ts * 1000 })),
  };
}

export async function evaluate(set: EvalSet, recommend: Recommender, k: number): Promise<ModelResult> {
  const lists: (readonly string[])[] = [];
  for (const user of set.users) lists.push(await recommend(user, k));
  const metrics = meanRankingMetrics(
    set.users.map((user, i) => ({ recommended: lists[i], relevant: user.relevant })),
    k,
  );
  return { ...metrics, coverage: catalogCoverage(lists, k, set.trainItems) };
}
