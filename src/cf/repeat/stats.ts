// Repeat-purchase statistics learned from purchases: per item, how many buyers re-buy it
// (smoothed toward the catalog by an empirical-Bayes beta prior) and the log-normal
// distribution of the gaps between a user's consecutive purchases of it (shrunk toward
// the catalog-wide gap distribution by its estimated between-item variance); per user and
// item, the user's own typical gap, shrunk toward the item's. Every prior strength is
// estimated from the data, none is set by hand.

import type { Interactions } from '../interactions.ts';
import { fitPositive } from '../../lifecycle/mle.ts';
import { logBeta } from '../../lifecycle/special.ts';
import { DEFAULT_OCCASION_SECONDS, logGaps, occasionsOf, type ItemOccasions, type Occasions } from './occasions.ts';
import { SECONDS_PER_DAY } from '../../lib/time.ts';

export interface BetaPrior {
  alpha: number;
  beta: number;
}

export interface RepeatStats {
  itemIds: string[];
  occasionSeconds: number;
  /** Distinct buyers of each item. */
  buyers: Uint32Array;
  /** Buyers with at least two occasions holding the item. */
  repeaters: Uint32Array;
  /** (repeaters + α) / (buyers + α + β): the posterior mean under `repeatPrior`. */
  repeatRate: Float64Array;
  repeatPrior: BetaPrior;
  /** Per item, the log-normal of the gap (days) between a user's consecutive purchases: μ and σ of ln(gap), shrunk. */
  gapMu: Float64Array;
  gapSigma: Float64Array;
  /** Gaps observed per item. */
  gapCount: Uint32Array;
  /** Catalog-wide ln(gap) mean and the pooled within-item variance. */
  gapMean: number;
  gapWithinVar: number;
  /** Pseudo-gaps of the catalog distribution in an item's estimate: within-item / between-item variance. */
  itemShrink: number;
  /** Within one user's gaps of one item: their variance, and the pseudo-gaps of the item's μ in the user's. */
  userGapVar: number;
  userShrink: number;
  /** Prior of a user's share of purchases that re-buy an item (see userRepeatShare). */
  userRepeatPrior: BetaPrior;
  /** Median over users of their median days between occasions: the visit gap of a user with one occasion. */
  visitGapDays: number;
}

/** What scoring a user's items needs of the catalog as a whole (a subset of RepeatStats). */
export type RepeatGlobals = Pick<RepeatStats, 'occasionSeconds' | 'repeatPrior' | 'gapMean' | 'gapWithinVar' | 'userGapVar' | 'userShrink' | 'userRepeatPrior' | 'visitGapDays'>;

/** One item's statistics, as a request reads them (Redis holds them per model version). */
export interface ItemRepeat {
  buyers: number;
  repeatRate: number;
  gapMu: number;
  gapSigma: number;
}

/** The statistics a user's items are scored with: the globals, and each item's own (undefined: unknown item). */
export interface RepeatLookup {
  globals: RepeatGlobals;
  item(id: string): ItemRepeat | undefined;
}

export function itemRepeatOf(stats: RepeatStats, i: number): ItemRepeat {
  return { buyers: stats.buyers[i], repeatRate: stats.repeatRate[i], gapMu: stats.gapMu[i], gapSigma: stats.gapSigma[i] };
}

export function globalsOf(stats: RepeatStats): RepeatGlobals {
  const { occasionSeconds, repeatPrior, gapMean, gapWithinVar, userGapVar, userShrink, userRepeatPrior, visitGapDays } = stats;
  return { occasionSeconds, repeatPrior, gapMean, gapWithinVar, userGapVar, userShrink, userRepeatPrior, visitGapDays };
}

/** A lookup over fitted statistics in memory. */
export function repeatLookup(stats: RepeatStats): RepeatLookup {
  const index = new Map(stats.itemIds.map((id, i) => [id, i]));
  return {
    globals: globalsOf(stats),
    item: (id) => {
      const i = index.get(id);
      return i === undefined ? undefined : itemRepeatOf(stats, i);
    },
  };
}

export interface UserItemGap {
  /** ln(gap days) mean and spread of this user's next gap for the item. */
  mu: number;
  sigma: number;
}

/** Fits the statistics on purchases (callers pass purchase rows only: a view is not a purchase). */
export function repeatStats(x: Interactions, options: { occasionSeconds?: number } = {}): RepeatStats {
  const occasionSeconds = options.occasionSeconds ?? DEFAULT_OCCASION_SECONDS;
  const nItems = x.itemIds.length;
  const buyers = new Uint32Array(nItems);
  const repeaters = new Uint32Array(nItems);
  const gapCount = new Uint32Array(nItems);
  const gapSum = new Float64Array(nItems);
  const gapSq = new Float64Array(nItems);
  // Per (user, item) with gaps: its item, gap count, mean and sum of squares, for the user-level shrinkage.
  const pairItem: number[] = [];
  const pairN: number[] = [];
  const pairMean: number[] = [];
  const pairSs: number[] = [];
  const userSuccess: number[] = [];
  const visitGaps: number[] = [];
  const userTrials: number[] = [];

  for (const o of perUser(x, occasionSeconds)) {
    for (const [item, entry] of o.items) {
      buyers[item]++;
      if (entry.occasions.length < 2) continue;
      repeaters[item]++;
      const gaps = logGaps(o, entry);
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      pairItem.push(item);
      pairN.push(gaps.length);
      pairMean.push(mean);
      pairSs.push(gaps.reduce((a, g) => a + (g - mean) ** 2, 0));
      gapCount[item] += gaps.length;
      for (const g of gaps) {
        gapSum[item] += g;
        gapSq[item] += g * g;
      }
    }
    const [s, t] = repeatCounts(o);
    if (o.buckets.length > 1) visitGaps.push(medianVisitGap(o));
    userSuccess.push(s);
    userTrials.push(t);
  }

  const repeatPrior = fitBetaPrior(repeaters, buyers);
  const repeatRate = new Float64Array(nItems);
  for (let i = 0; i < nItems; i++) repeatRate[i] = (repeaters[i] + repeatPrior.alpha) / (buyers[i] + repeatPrior.alpha + repeatPrior.beta);

  // Item level: ln(gap) of item i ~ N(μ_i, σ²), μ_i ~ N(μ0, τ²); shrink = σ² / τ².
  let total = 0;
  let totalN = 0;
  let withinSs = 0;
  let withinDf = 0;
  const itemMean = new Float64Array(nItems);
  for (let i = 0; i < nItems; i++) {
    if (gapCount[i] === 0) continue;
    total += gapSum[i];
    totalN += gapCount[i];
    itemMean[i] = gapSum[i] / gapCount[i];
    withinSs += gapSq[i] - gapCount[i] * itemMean[i] ** 2;
    withinDf += gapCount[i] - 1;
  }
  const gapMean = totalN > 0 ? total / totalN : 0;
  const gapWithinVar = withinDf > 0 ? withinSs / withinDf : 1;
  const items = [...gapCount.keys()].filter((i) => gapCount[i] > 0);
  const itemShrink = shrinkage(
    items.map((i) => itemMean[i] - gapMean),
    items.map((i) => gapCount[i]),
    gapWithinVar,
  );
  const gapMu = new Float64Array(nItems);
  const gapSigma = new Float64Array(nItems);
  for (let i = 0; i < nItems; i++) {
    const n = gapCount[i];
    gapMu[i] = (gapSum[i] + itemShrink * gapMean) / (n + itemShrink);
    const ss = n > 0 ? gapSq[i] - n * itemMean[i] ** 2 : 0;
    gapSigma[i] = Math.sqrt((ss + itemShrink * gapWithinVar) / (Math.max(n - 1, 0) + itemShrink));
  }

  // User level within an item: a user's mean ln(gap) around the item's μ, same decomposition.
  let pairSsTotal = 0;
  let pairDf = 0;
  for (let p = 0; p < pairN.length; p++) {
    pairSsTotal += pairSs[p];
    pairDf += pairN[p] - 1;
  }
  const userGapVar = pairDf > 0 ? pairSsTotal / pairDf : gapWithinVar;
  const userShrink = shrinkage(
    pairMean.map((m, p) => m - gapMu[pairItem[p]]),
    pairN,
    userGapVar,
  );

  return {
    itemIds: x.itemIds,
    occasionSeconds,
    buyers,
    repeaters,
    repeatRate,
    repeatPrior,
    gapMu,
    gapSigma,
    gapCount,
    gapMean,
    gapWithinVar,
    itemShrink,
    userGapVar,
    userShrink,
    userRepeatPrior: fitBetaPrior(Uint32Array.from(userSuccess), Uint32Array.from(userTrials)),
    visitGapDays: visitGaps.length ? median(visitGaps) : 1,
  };
}

/**
 * The gap distribution of a user's next purchase of an item (undefined when the statistics do
 * not know it): the item's when the user bought it once, else the posterior predictive around
 * the user's own mean ln(gap), shrunk toward the item's μ.
 */
export function userItemGap(stats: RepeatGlobals, item: ItemRepeat | undefined, o: Occasions<unknown>, entry: ItemOccasions): UserItemGap {
  const itemMu = item !== undefined ? item.gapMu : stats.gapMean;
  const itemSigma = item !== undefined ? item.gapSigma : Math.sqrt(stats.gapWithinVar);
  const gaps = logGaps(o, entry);
  if (gaps.length === 0) return { mu: itemMu, sigma: itemSigma };
  const k = stats.userShrink;
  const n = gaps.length;
  const mu = (gaps.reduce((a, b) => a + b, 0) + k * itemMu) / (n + k);
  return { mu, sigma: Math.sqrt(stats.userGapVar * (1 + 1 / (n + k))) };
}

/** The user's share of purchases (after their first occasion) that re-buy an item, shrunk by the fitted prior. */
export function userRepeatShare(stats: Pick<RepeatGlobals, 'userRepeatPrior'>, o: Occasions<unknown>): number {
  const [s, t] = repeatCounts(o);
  const { alpha, beta } = stats.userRepeatPrior;
  return (s + alpha) / (t + alpha + beta);
}

/** The user's median days between consecutive occasions; the catalog's when they have one occasion. */
export function userVisitGap(stats: Pick<RepeatGlobals, 'visitGapDays'>, o: Occasions<unknown>): number {
  return o.buckets.length > 1 ? medianVisitGap(o) : stats.visitGapDays;
}

function medianVisitGap(o: Occasions<unknown>): number {
  const days = o.occasionSeconds / SECONDS_PER_DAY;
  return median(Array.from({ length: o.buckets.length - 1 }, (_, k) => (o.buckets[k + 1] - o.buckets[k]) * days));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/** [re-buys, purchases outside the first occasion], counted per item and occasion. */
function repeatCounts(o: Occasions<unknown>): [number, number] {
  let success = 0;
  let trials = 0;
  for (const { occasions } of o.items.values()) {
    success += occasions.length - 1;
    trials += occasions[0] === 0 ? occasions.length - 1 : occasions.length;
  }
  return [success, trials];
}

/** Each user's purchases of `x` as occasions over item indices, users in index order. */
function* perUser(x: Interactions, occasionSeconds: number): Generator<Occasions<number>> {
  const order = Uint32Array.from(x.users.keys()).sort((a, b) => x.users[a] - x.users[b] || a - b);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end < order.length && x.users[order[end]] === x.users[order[start]]) end++;
    const rows = order.subarray(start, end);
    yield occasionsOf(
      Array.from(rows, (r) => ({ item: x.items[r], ts: x.times[r] })),
      occasionSeconds,
    );
    start = end;
  }
}

/**
 * Random-effects shrinkage σ² / τ²: `deviations` are group means around the grand mean,
 * each of `counts` observations with within-group variance σ², so their mean square is
 * τ² + σ² · mean(1/n) (method of moments). No between-group variance left: full pooling.
 */
function shrinkage(deviations: number[], counts: number[], withinVar: number): number {
  if (deviations.length < 2) return FULL_POOLING;
  let ms = 0;
  let inverseN = 0;
  for (let g = 0; g < deviations.length; g++) {
    ms += deviations[g] ** 2;
    inverseN += 1 / counts[g];
  }
  const tau2 = (ms - withinVar * inverseN) / deviations.length;
  return tau2 > 0 ? Math.min(withinVar / tau2, FULL_POOLING) : FULL_POOLING;
}

const FULL_POOLING = 1e6;

/** The beta prior maximising the beta-binomial likelihood of successes out of trials (groups with no trial ignored). */
export function fitBetaPrior(successes: Uint32Array, trials: Uint32Array): BetaPrior {
  // Identical (k, n) pairs share one likelihood term: items are mostly 0 or 1 of a few buyers.
  const pairs = new Map<number, { k: number; n: number; count: number }>();
  let k = 0;
  let n = 0;
  for (let g = 0; g < trials.length; g++) {
    if (trials[g] === 0) continue;
    const key = successes[g] * 2 ** 26 + trials[g];
    const pair = pairs.get(key);
    if (pair) pair.count++;
    else pairs.set(key, { k: successes[g], n: trials[g], count: 1 });
    k += successes[g];
    n += trials[g];
  }
  const mean = n > 0 ? Math.min(Math.max(k / n, 1e-3), 1 - 1e-3) : 0.5;
  const list = [...pairs.values()];
  if (list.length < 2) return { alpha: mean, beta: 1 - mean };
  const fit = fitPositive(
    ([a, b]) => {
      let ll = 0;
      const prior = logBeta(a, b);
      for (const p of list) ll += p.count * (logBeta(p.k + a, p.n - p.k + b) - prior);
      return ll;
    },
    [Float64Array.of(mean, 1 - mean), Float64Array.of(10 * mean, 10 * (1 - mean))],
  );
  return { alpha: fit.params[0], beta: fit.params[1] };
}
