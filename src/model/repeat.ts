// Fitting buy-again and the for-you blend for a model version, from the same interactions the
// rest of the model is fit on (src/model/model.ts): item repeat statistics on every purchase;
// buy-again's parameters and the blend's weights on a validation split carved out of them
// (never the test of an evaluation). The blend is fit on what serving would produce: the
// generators' lists of recommend() over the model of the inner train, held in memory.
import { selectRows, type Interactions } from '../cf/interactions.ts';
import { blendExamples, fitBlend, type BlendExamples } from '../cf/repeat/blend-fit.ts';
import { candidateFeatures, type BlendModel } from '../cf/repeat/blend.ts';
import { fitBuyAgain } from '../cf/repeat/buy-again-fit.ts';
import { globalsOf, itemRepeatOf, repeatStats, type ItemRepeat } from '../cf/repeat/stats.ts';
import { evalSet, evenSample, servedHistory } from '../eval/protocol.ts';
import { chronoSplit, type Split } from '../eval/split.ts';
import { FOR_YOU_GENERATORS } from '../recommend/for-you.ts';
import { forYouLists, prepare, type RecOptions } from '../recommend/recommend.ts';
import type { CatalogFields, RepeatModel, UserHistory } from '../recommend/types.ts';
import { MemoryRecStore } from './memory-store.ts';
import { fitModel, fitOnly, type ModelData, type ModelSpec } from './model.ts';

/** The build's validation split: each user's latest fifth (the evaluation's time split). */
export const latestFifth = (x: Interactions): Split => chronoSplit(x, { ratio: 0.8 });

/** The rows that are purchases (not views); every row of a log that holds nothing else (browsing only). */
export function purchaseRows(x: Interactions): Interactions {
  if (!x.views?.some((v) => v === 0)) return x;
  const rows: number[] = [];
  x.views.forEach((v, r) => {
    if (v === 0) rows.push(r);
  });
  return selectRows(x, Uint32Array.from(rows));
}

/** Each item's statistics, by id. */
function itemRepeats(x: Interactions, stats: ReturnType<typeof repeatStats>): Map<string, ItemRepeat> {
  return new Map(x.itemIds.map((id, i) => [id, itemRepeatOf(stats, i)] as const).filter(([, s]) => s.buyers > 0));
}

/**
 * Buy-again's model: statistics of every purchase of `x`, parameters fit on `split` of them.
 * Undefined when the split leaves no user to validate on (too little history).
 */
export function fitRepeat(x: Interactions, split: (x: Interactions) => Split, k = 10, maxUsers?: number): ModelData['repeat'] {
  const purchases = purchaseRows(x);
  let params: ReturnType<typeof fitBuyAgain>['params'];
  try {
    params = fitBuyAgain(purchases, { split, k, maxUsers }).params;
  } catch {
    return undefined;
  }
  const stats = repeatStats(purchases);
  return { model: { globals: globalsOf(stats), params }, items: itemRepeats(purchases, stats) };
}

/**
 * The users evalSet would validate on (those with rows on both sides of the split, by index),
 * evenly sampled down to `n`: a mask over user indices.
 */
function sampleValidationUsers(x: Interactions, rows: Split, n: number): Uint8Array {
  const inTrain = new Uint8Array(x.userIds.length);
  for (const r of rows.train) inTrain[x.users[r]] = 1;
  const inBoth = new Uint8Array(x.userIds.length);
  for (const r of rows.test) if (inTrain[x.users[r]] === 1) inBoth[x.users[r]] = 1;
  const eligible: number[] = [];
  for (let u = 0; u < inBoth.length; u++) if (inBoth[u] === 1) eligible.push(u);
  const sampled = new Uint8Array(x.userIds.length);
  for (const u of evenSample(eligible, n)) sampled[u] = 1;
  return sampled;
}

/** What the blend is fit from: the interactions, how to split them, and how serving answers. */
export interface BlendSource {
  x: Interactions;
  catalog: ReadonlyMap<string, CatalogFields>;
  spec: ModelSpec;
  /** Buy-again's model, whose parameters the generators' buy-again list is scored with. */
  repeat: RepeatModel | undefined;
  split: (x: Interactions) => Split;
  options: RecOptions;
}

/**
 * For-you's weights: fit for nDCG@k on blendTrainingSet. Undefined when the split leaves no user
 * to validate on.
 */
export async function fitForYou(source: BlendSource, k = 10, maxUsers = 1500): Promise<BlendModel | undefined> {
  const examples = await blendTrainingSet(source, k, maxUsers);
  return examples && { generators: FOR_YOU_GENERATORS.map((g) => ({ ...g })), weights: fitBlend(examples, { k }).weights };
}

/**
 * What the blend learns from: the generators' lists for the validation users of `split(x)` (from
 * the model of the inner train, with `repeat`'s parameters), labelled by what each user bought
 * next. Undefined when the split leaves no user to validate on.
 */
export async function blendTrainingSet(source: BlendSource, k: number, maxUsers: number): Promise<BlendExamples | undefined> {
  const { x, catalog, spec, repeat, split, options } = source;
  const rows = split(x);
  const inner = selectRows(x, rows.train);
  // Its cost grows with the validation users: an even sample of them is as good a fit. Only
  // their histories are built (every user's are gigabytes of objects at 50M events).
  const sampled = sampleValidationUsers(x, rows, maxUsers);
  const of = (part: Uint32Array) =>
    selectRows(
      x,
      part.filter((r) => sampled[x.users[r]] === 1),
    );
  const validation = evalSet(of(rows.train), of(rows.test), { repeats: true });
  if (validation.users.length === 0) return undefined;
  // Their collaborative lists read only their own items' neighbours: fit just those.
  const seeds = new Set(validation.users.flatMap((user) => user.history.map((e) => e.item)));
  const data = await fitModel(inner, catalog, spec, fitOnly(seeds));
  if (repeat !== undefined) {
    const purchases = purchaseRows(inner);
    const stats = repeatStats(purchases);
    data.repeat = { model: { globals: globalsOf(stats), params: repeat.params }, items: itemRepeats(purchases, stats) };
  }
  let current: { id: string; history: UserHistory } | null = null;
  const store = new MemoryRecStore(data, (id) => (current?.id === id ? current.history : undefined));
  const users: { features: Float64Array; labels: number[]; relevant: number }[] = [];
  for (const user of validation.users) {
    current = { id: user.id, history: servedHistory(user, options.recentlyViewedCap) };
    const p = await prepare(store, { strategy: 'for-you', user: user.id, items: [], limit: k, exclude: [], excludePurchased: false, filter: {}, fallback: true }, options);
    const lists = await forYouLists(p, undefined);
    const { items, features } = candidateFeatures(
      FOR_YOU_GENERATORS,
      lists.map((l) => l.list),
    );
    users.push({ features, labels: items.map((item) => (user.relevant.has(item) ? 1 : 0)), relevant: user.relevant.size });
  }
  return blendExamples(users, 2 * FOR_YOU_GENERATORS.length);
}
