// Fits buy-again on a validation split carved out of train, never looking at test: for an
// occasion decay and horizon of the grid, the logistic weights by likelihood (label: the own
// item is bought in the validation period), then the grid point and the minimum probability
// by nDCG@k of what would be served, the buy-again list then popular items. The grid is
// searched one parameter at a time (decay, then horizon, until neither moves): a few passes
// of 6 + 12 points where the full grid is 72, on at most `maxUsers` validation users, so the
// fit fits in a build.

import { selectRows, type Interactions } from '../interactions.ts';
import { itemPopularity, rankItems } from '../popularity.ts';
import { ndcgAtK } from '../../eval/metrics.ts';
import { evalSet, evenSample } from '../../eval/protocol.ts';
import type { Split } from '../../eval/split.ts';
import { BUY_AGAIN_FEATURES, ownItemFeatures, ownItems, type BuyAgainParams, type BuyAgainShape, type OwnItems } from './buy-again.ts';
import { fitLogistic, linear, sigmoid } from './logistic.ts';
import { DEFAULT_OCCASION_SECONDS, occasionsOf } from './occasions.ts';
import { repeatLookup, repeatStats } from './stats.ts';

export const OCCASION_DECAYS: readonly number[] = [1, 0.95, 0.9, 0.8, 0.65, 0.5];
type Horizon = Omit<BuyAgainShape, 'occasionDecay'>;

/** Horizons tried: fixed days (the item's clock) or multiples of the user's visit gap (the user's clock). */
export const HORIZONS: readonly Horizon[] = [
  ...[3, 7, 14, 30, 60, 120].map((horizonDays) => ({ horizonDays, horizonVisits: 0 })),
  ...[0.25, 0.5, 1, 2, 4, 8].map((horizonVisits) => ({ horizonDays: 0, horizonVisits })),
];

export interface BuyAgainFitOptions {
  /** Splits train into inner train and validation, the way the test split was made. */
  split: (x: Interactions) => Split;
  k?: number;
  occasionSeconds?: number;
  decays?: readonly number[];
  horizons?: readonly Horizon[];
  /** Validation users the fit uses at most (an even sample by id): its cost grows with them. Default 1500. */
  maxUsers?: number;
}

export interface BuyAgainFit {
  params: BuyAgainParams;
  /** Validation nDCG@k of the chosen parameters. */
  ndcg: number;
  tried: (BuyAgainShape & { minProbability: number; ndcg: number })[];
}

export function fitBuyAgain(train: Interactions, options: BuyAgainFitOptions): BuyAgainFit {
  const { k = 10, occasionSeconds = DEFAULT_OCCASION_SECONDS, decays = OCCASION_DECAYS, horizons = HORIZONS, maxUsers = 1500 } = options;
  const rows = options.split(train);
  const inner = selectRows(train, rows.train);
  const validation = evalSet(inner, selectRows(train, rows.test), { repeats: true });
  if (validation.users.length === 0) throw new Error('buy-again: the validation split has no user in both parts');
  validation.users = evenSample(validation.users, maxUsers);
  const lookup = repeatLookup(repeatStats(inner, { occasionSeconds }));
  const popular = rankItems(itemPopularity(inner), inner.itemIds, 2 * k).ids;
  const own = validation.users.map((u) => {
    const o = occasionsOf(u.history, occasionSeconds);
    return ownItems(o, lookup, o.last);
  });
  const relevant = validation.users.map((u) => u.relevant);
  const labels = own.flatMap((o, g) => o.items.map((item) => (relevant[g].has(item) ? 1 : 0)));

  const tried: BuyAgainFit['tried'] = [];
  const seen = new Map<string, BuyAgainFit>();
  const evaluate = (occasionDecay: number, horizon: Horizon): BuyAgainFit => {
    const shape = { occasionDecay, ...horizon };
    const key = JSON.stringify(shape);
    let fit = seen.get(key);
    if (fit === undefined) {
      const features = own.map((o) => ownItemFeatures(o, shape));
      // Neighbouring shapes have close weights: each fit starts from the best so far.
      const weights = fitLogistic(concat(features), labels, BUY_AGAIN_FEATURES.length, { start: bestSoFar?.params.weights });
      const { minProbability, ndcg } = bestThreshold(own, features, weights, relevant, popular, k);
      tried.push({ ...shape, minProbability, ndcg });
      seen.set(key, (fit = { params: { ...shape, weights: [...weights], minProbability }, ndcg, tried }));
    }
    return fit;
  };
  let bestSoFar: BuyAgainFit | undefined;
  const better = (a: BuyAgainFit, b: BuyAgainFit) => (bestSoFar = b.ndcg > a.ndcg ? b : a);
  let best = (bestSoFar = evaluate(decays[0], horizons[Math.floor(horizons.length / 2)]));
  for (let moved = true; moved; ) {
    const before = best;
    for (const decay of decays) best = better(best, evaluate(decay, horizonOf(best.params)));
    for (const horizon of horizons) best = better(best, evaluate(best.params.occasionDecay, horizon));
    moved = best !== before;
  }
  return best;
}

const horizonOf = (p: BuyAgainShape): Horizon => ({ horizonDays: p.horizonDays, horizonVisits: p.horizonVisits });

/**
 * The minimum probability maximising mean nDCG@k of "own items at or above it, best first,
 * then popular items": candidates are 0 (keep all) and every 5th percentile of the scores.
 * When several tie (an item nobody re-buys, below every staple, gains nothing on validation
 * whether shown or not), the minimum goes in the widest log-odds gap between the scores they
 * span, if that ties too: farthest from every validation score, so it leaves the TV out
 * without sitting on the edge of the staples.
 */
function bestThreshold(
  own: OwnItems[],
  features: Float64Array[],
  weights: Float64Array,
  relevant: ReadonlySet<string>[],
  popular: readonly string[],
  k: number,
): { minProbability: number; ndcg: number } {
  const ranked = own.map((o, g) =>
    o.items
      .map((item, r) => ({ item, p: sigmoid(linear(features[g], r, weights)) }))
      .sort((a, b) => b.p - a.p || (a.item < b.item ? -1 : 1))
      .slice(0, k),
  );
  const meanNdcg = (t: number) => {
    let sum = 0;
    ranked.forEach((list, g) => {
      const out = list.filter((c) => c.p >= t).map((c) => c.item);
      for (const id of popular) if (out.length < k && !out.includes(id)) out.push(id);
      sum += ndcgAtK(out, relevant[g], k);
    });
    return sum / ranked.length;
  };
  const all = ranked
    .flat()
    .map((c) => c.p)
    .sort((a, b) => a - b);
  const candidates = [0, ...Array.from({ length: 19 }, (_, q) => all[Math.floor(((q + 1) / 20) * (all.length - 1))] ?? 0)];
  const scored = candidates.map((t) => ({ minProbability: t, ndcg: meanNdcg(t) }));
  const best = scored.reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
  const tied = scored.filter((c) => c.ndcg === best.ndcg).map((c) => c.minProbability);
  const middle = widestGapMiddle(all, Math.min(...tied), Math.max(...tied));
  return middle !== undefined && meanNdcg(middle) >= best.ndcg ? { minProbability: middle, ndcg: best.ndcg } : best;
}

/** The log-odds middle of the widest gap between consecutive `sorted` scores within [lo, hi]. */
function widestGapMiddle(sorted: readonly number[], lo: number, hi: number): number | undefined {
  const logit = (p: number) => Math.log(p / (1 - p));
  let widest = 0;
  let middle: number | undefined;
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1], sorted[i]];
    if (a < lo || b > hi || !(a > 0 && b < 1)) continue;
    if (logit(b) - logit(a) > widest) {
      widest = logit(b) - logit(a);
      middle = sigmoid((logit(a) + logit(b)) / 2);
    }
  }
  return middle;
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
