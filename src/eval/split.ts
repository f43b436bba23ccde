// Train/test splits over interaction rows, after Microsoft Recommenders'
// python_splitters: per-user (stratified) random and chronological splits, plus a
// global time cut-off, and the last-basket split of next-basket benchmarks. All return row
// indices, ascending, and are deterministic.

import type { Interactions } from '../cf/interactions.ts';
import { Mt19937 } from './random.ts';

export interface Split {
  train: Uint32Array;
  test: Uint32Array;
}

export interface PerUserSplitOptions {
  /** Share of each user's rows that goes to train. */
  ratio?: number;
  /** Users (or items, see filterBy) with fewer rows are dropped first, as MSR's min_rating. Default 1. */
  minRating?: number;
  /** Stratify (and filter) by 'user' (default) or 'item'. */
  filterBy?: 'user' | 'item';
}

/**
 * MSR's python_stratified_split: each user's rows in random order, the first
 * `ratio` of them (rank / count ≤ ratio) to train. Draws np.random.rand() with
 * NumPy's generator in row order, so given the rows in the same order and the same
 * seed (MSR's default is 42) the split is identical to MSR's.
 */
export function stratifiedSplit(x: Interactions, options: PerUserSplitOptions & { seed?: number } = {}): Split {
  const rows = keptRows(x, options);
  const rng = new Mt19937(options.seed ?? 42);
  const random = new Float64Array(x.users.length);
  for (const r of rows) random[r] = rng.nextDouble();
  return perGroupSplit(x, rows, random, options.ratio ?? 0.75, options.filterBy);
}

/**
 * MSR's python_chrono_split: each user's latest rows (the last 1 - ratio of their
 * timeline) to test. Default ratio 0.8. Equal timestamps keep row order.
 */
export function chronoSplit(x: Interactions, options: PerUserSplitOptions = {}): Split {
  return perGroupSplit(x, keptRows(x, options), x.times, options.ratio ?? 0.8, options.filterBy);
}

/** Everything before `cutoff` (unix seconds) to train, the rest to test: no look-ahead at all. */
export function cutoffSplit(x: Interactions, cutoff: number): Split {
  const train: number[] = [];
  const test: number[] = [];
  x.times.forEach((t, r) => (t < cutoff ? train : test).push(r));
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}

/**
 * Each user's last basket (the rows at their latest timestamp) to test, as next-basket
 * benchmarks split; a user with a single basket stays in train.
 */
export function lastBasketSplit(x: Interactions): Split {
  const first = new Float64Array(x.userIds.length).fill(Infinity);
  const last = new Float64Array(x.userIds.length).fill(-Infinity);
  for (let r = 0; r < x.users.length; r++) {
    first[x.users[r]] = Math.min(first[x.users[r]], x.times[r]);
    last[x.users[r]] = Math.max(last[x.users[r]], x.times[r]);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let r = 0; r < x.users.length; r++) (x.times[r] === last[x.users[r]] && first[x.users[r]] < last[x.users[r]] ? test : train).push(r);
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}

function groupKeys(x: Interactions, filterBy: 'user' | 'item' = 'user'): Uint32Array {
  return filterBy === 'user' ? x.users : x.items;
}

function keptRows(x: Interactions, options: PerUserSplitOptions): number[] {
  const { minRating = 1 } = options;
  if (!Number.isInteger(minRating) || minRating < 1) throw new Error('minRating must be an integer >= 1');
  const keys = groupKeys(x, options.filterBy);
  const counts = new Uint32Array(options.filterBy === 'item' ? x.itemIds.length : x.userIds.length);
  for (const k of keys) counts[k]++;
  const rows: number[] = [];
  for (let r = 0; r < keys.length; r++) if (counts[keys[r]] >= minRating) rows.push(r);
  return rows;
}

/** Within each group, rows sorted by `order` (stable), rank / count ≤ ratio → train. */
function perGroupSplit(x: Interactions, rows: number[], order: Float64Array, ratio: number, filterBy: 'user' | 'item' | undefined): Split {
  if (!(ratio > 0 && ratio < 1)) throw new Error('split ratio must be between 0 and 1');
  const keys = groupKeys(x, filterBy);
  const groups = new Map<number, number[]>();
  for (const r of rows) {
    const g = groups.get(keys[r]);
    if (g) g.push(r);
    else groups.set(keys[r], [r]);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => order[a] - order[b]);
    // Same float comparison as MSR: (rank / count) <= ratio, rank from 1.
    g.forEach((r, i) => ((i + 1) / g.length <= ratio ? train : test).push(r));
  }
  return { train: Uint32Array.from(train).sort(), test: Uint32Array.from(test).sort() };
}
