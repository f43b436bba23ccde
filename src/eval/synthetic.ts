// Seeded synthetic purchases shaped like UCI Online Retail (≈90 lines per
// customer, heavy-tailed customer activity and item popularity, repeat buys),
// with a planted co-purchase structure so collaborative filtering has something
// to find. For scaling benchmarks (5M events / 200k items) and sanity checks.

import { InteractionsBuilder, type Interactions } from '../cf/interactions.ts';
import { cumulative, drawIndex, gaussian, Mt19937 } from './random.ts';
import { SECONDS_PER_DAY } from '../lib/time.ts';

export interface SyntheticOptions {
  events: number;
  items: number;
  /** Default events / 90, UCI's lines per customer. */
  users?: number;
  seed?: number;
  /** Zipf exponent of item popularity (UCI's top item has ~0.5% of lines: ≈ 0.7). */
  itemExponent?: number;
  /** σ of the log-normal customer activity (UCI: a median customer ~40 lines, the largest thousands). */
  activitySigma?: number;
  /** Share of a user's events drawn from their own item cluster instead of overall popularity. */
  clusterShare?: number;
  /** Items per cluster. */
  clusterSize?: number;
  /** Events spread uniformly over this many days before `end`. */
  days?: number;
  /** Unix seconds of the last possible event (default 2024-01-01T00:00:00Z). */
  end?: number;
}

/**
 * Item ranks follow Zipf(itemExponent): item "i<r>" is the r-th most popular overall.
 * Cluster c holds the items r ≡ c (mod nClusters), so each cluster mixes popular and
 * niche items; a user draws `clusterShare` of their events from their home cluster
 * (Zipf within it) and the rest from the whole catalogue.
 */
export function syntheticInteractions(options: SyntheticOptions): Interactions {
  const {
    events,
    items,
    users = Math.max(1, Math.round(events / 90)),
    seed = 42,
    itemExponent = 0.7,
    activitySigma = 1.1,
    clusterShare = 0.5,
    clusterSize = 50,
    days = 365,
    end = 1_704_067_200,
  } = options;
  const rng = new Mt19937(seed);
  const nClusters = Math.max(1, Math.floor(items / clusterSize));
  const overall = cumulative(items, (r) => (r + 1) ** -itemExponent);
  const withinCluster = cumulative(Math.ceil(items / nClusters), (r) => (r + 1) ** -itemExponent);
  const activity = new Float64Array(users);
  let total = 0;
  for (let u = 0; u < users; u++) total = activity[u] = total + Math.exp(activitySigma * gaussian(rng));
  const home = Uint32Array.from({ length: users }, () => Math.floor(rng.nextDouble() * nClusters));

  const userIds = Array.from({ length: users }, (_, u) => `u${u}`);
  const itemIds = Array.from({ length: items }, (_, i) => `i${i}`);
  const builder = new InteractionsBuilder();
  for (let e = 0; e < events; e++) {
    const user = drawIndex(activity, rng.nextDouble() * total);
    let item: number;
    do {
      item = rng.nextDouble() < clusterShare ? home[user] + nClusters * drawIndex(withinCluster, rng.nextDouble()) : drawIndex(overall, rng.nextDouble());
    } while (item >= items);
    builder.add(userIds[user], itemIds[item], 1, end - Math.floor(rng.nextDouble() * days * SECONDS_PER_DAY));
  }
  return builder.build();
}
