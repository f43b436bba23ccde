// Buy again: a user's own purchased items ranked by the probability that they buy each one
// again soon, a logistic model over what the history says of the pair (how often, how
// recently, how due by the gap distribution) and of the item (how many of its buyers re-buy
// it: a TV is not a yoghurt). Its weights, the occasion decay and the horizon are fit on a
// validation split (buy-again-fit.ts); this module only scores.

import { dueProbability } from './due.ts';
import { linear, sigmoid } from './logistic.ts';
import { occasionsOf, type Occasions, type Purchase } from './occasions.ts';
import { userItemGap, userRepeatShare, userVisitGap, type RepeatLookup } from './stats.ts';
import { SECONDS_PER_DAY } from '../../lib/time.ts';

// ln of the smallest due probability a feature takes: a finite floor for "not due at all".
const LOG_DUE_FLOOR = Math.log(1e-6);

export const BUY_AGAIN_FEATURES = [
  'intercept',
  /** ln(occasions holding the item). */
  'log_times',
  /** Σ decay^(occasions since) over the item's occasions / the same sum over all: TIFU's personal frequency. */
  'decayed_share',
  /** ln(1 + days since last bought). */
  'log_days_since',
  /** logit of the item's smoothed repeat rate. */
  'repeat_logit',
  /** ln P(re-bought within the horizon | not yet). */
  'log_due',
  /** logit of the user's smoothed share of re-buys among their purchases. */
  'user_repeat_logit',
  /** ln(1 + the item's distinct buyers). */
  'log_buyers',
] as const;

/** The free parameters of the features, chosen on validation. */
export interface BuyAgainShape {
  /** Weight of an occasion per occasion since (1 = plain count). */
  occasionDecay: number;
  /** The due-ness horizon: horizonDays + horizonVisits × the user's visit gap (median days between occasions). */
  horizonDays: number;
  horizonVisits: number;
}

export interface BuyAgainParams extends BuyAgainShape {
  /** Logistic weights, one per BUY_AGAIN_FEATURES. */
  weights: number[];
  /** Items scoring below this are left out: the popular fallback does better there (fit on validation). */
  minProbability: number;
}

export interface BuyAgainModel {
  stats: RepeatLookup;
  params: BuyAgainParams;
}

export interface Because {
  times_bought: number;
  /** Unix milliseconds. */
  last_bought: number;
  /** Median gap between this user's purchases of the item (the item's, when bought once). */
  typical_gap_days: number;
  /** typical_gap_days − days since last bought: < 0 when overdue. */
  due_in_days: number;
}

export interface BuyAgainItem {
  item: string;
  /** Probability of a re-buy soon. */
  score: number;
  because: Because;
}

/** What the features need of a user's own items, independent of the shape parameters. */
export interface OwnItems {
  items: string[];
  because: Because[];
  /** Per item: its occasions (indices, ascending), days since last bought, gap μ and σ, repeat logit, ln(1 + buyers). */
  occasions: number[][];
  elapsed: Float64Array;
  gapMu: Float64Array;
  gapSigma: Float64Array;
  repeatLogit: Float64Array;
  logBuyers: Float64Array;
  nOccasions: number;
  userLogit: number;
  visitGapDays: number;
}

export function buyAgainModel(stats: RepeatLookup, params: BuyAgainParams): BuyAgainModel {
  if (params.weights.length !== BUY_AGAIN_FEATURES.length) throw new RangeError(`buy-again needs ${BUY_AGAIN_FEATURES.length} weights`);
  return { stats, params };
}

/**
 * A user's own items at time `now` (unix seconds; before the user's last purchase counts as
 * that purchase). Items the statistics do not know get the catalog's values.
 */
export function ownItems<K extends string>(o: Occasions<K>, lookup: RepeatLookup, now: number): OwnItems {
  const stats = lookup.globals;
  const at = Math.max(now, o.last);
  const n = o.items.size;
  const prior = stats.repeatPrior;
  const priorLogit = logit(prior.alpha / (prior.alpha + prior.beta));
  const own: OwnItems = {
    items: [],
    because: [],
    occasions: [],
    elapsed: new Float64Array(n),
    gapMu: new Float64Array(n),
    gapSigma: new Float64Array(n),
    repeatLogit: new Float64Array(n),
    logBuyers: new Float64Array(n),
    nOccasions: o.buckets.length,
    userLogit: logit(userRepeatShare(stats, o)),
    visitGapDays: userVisitGap(stats, o),
  };
  let row = 0;
  for (const [item, entry] of o.items) {
    const known = lookup.item(item);
    const elapsed = (at - entry.last) / SECONDS_PER_DAY;
    const gap = userItemGap(stats, known, o, entry);
    own.items.push(item);
    own.occasions.push(entry.occasions);
    own.elapsed[row] = elapsed;
    own.gapMu[row] = gap.mu;
    own.gapSigma[row] = gap.sigma;
    own.repeatLogit[row] = known !== undefined ? logit(known.repeatRate) : priorLogit;
    own.logBuyers[row] = Math.log1p(known?.buyers ?? 0);
    const typical = Math.exp(gap.mu);
    own.because.push({ times_bought: entry.occasions.length, last_bought: entry.last * 1000, typical_gap_days: typical, due_in_days: typical - elapsed });
    row++;
  }
  return own;
}

/** The BUY_AGAIN_FEATURES of each own item, row-major. */
export function ownItemFeatures(own: OwnItems, shape: BuyAgainShape): Float64Array {
  const d = BUY_AGAIN_FEATURES.length;
  const decay = Float64Array.from({ length: own.nOccasions }, (_, k) => shape.occasionDecay ** (own.nOccasions - 1 - k));
  const norm = decay.reduce((a, b) => a + b, 0);
  const horizonDays = shape.horizonDays + shape.horizonVisits * own.visitGapDays;
  const features = new Float64Array(own.items.length * d);
  // Written in place, in BUY_AGAIN_FEATURES order: this runs for every own item of every request.
  for (let r = 0, at = 0; r < own.items.length; r++, at += d) {
    const occasions = own.occasions[r];
    let decayed = 0;
    for (let k = 0; k < occasions.length; k++) decayed += decay[occasions[k]];
    const due = dueProbability(own.gapMu[r], own.gapSigma[r], own.elapsed[r], horizonDays);
    features[at] = 1;
    features[at + 1] = Math.log(occasions.length);
    features[at + 2] = decayed / norm;
    features[at + 3] = Math.log1p(own.elapsed[r]);
    features[at + 4] = own.repeatLogit[r];
    features[at + 5] = due > 0 ? Math.max(Math.log(due), LOG_DUE_FLOOR) : LOG_DUE_FLOOR;
    features[at + 6] = own.userLogit;
    features[at + 7] = own.logBuyers[r];
  }
  return features;
}

/**
 * The user's own items most likely to be bought again soon, best first (ties: smaller id),
 * those under the model's minimum probability left out. `now` defaults to the last purchase.
 */
export function buyAgain(purchases: Iterable<Purchase<string>>, model: BuyAgainModel, options: { now?: number; limit?: number } = {}): BuyAgainItem[] {
  const o = occasionsOf(purchases, model.stats.globals.occasionSeconds);
  const own = ownItems(o, model.stats, options.now ?? o.last);
  return rankOwnItems(own, ownItemFeatures(own, model.params), model.params).slice(0, options.limit ?? Infinity);
}

/** Scores own items with the model's weights; drops those under its minimum; best first. */
export function rankOwnItems(own: OwnItems, features: Float64Array, params: BuyAgainParams): BuyAgainItem[] {
  const out: BuyAgainItem[] = [];
  own.items.forEach((item, r) => {
    const score = sigmoid(linear(features, r, params.weights));
    if (score >= params.minProbability) out.push({ item, score, because: own.because[r] });
  });
  return out.sort((a, b) => b.score - a.score || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
}

function logit(p: number): number {
  return Math.log(p / (1 - p));
}
