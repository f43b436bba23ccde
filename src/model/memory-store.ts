// A RecStore over a model held in memory (src/model/model.ts ModelData) and histories given by
// the caller: what the offline evaluation serves from, through the same recommend() as the API,
// and what the recommend/ unit tests run on. Lists are served exactly as the Redis store serves
// them (rounded, re-ranked: rankedNeighbours), so a measured block is a served block.
import { rankedNeighbours } from '../cf/neighbours.ts';
import { slottedList, type SlottedList } from '../cf/personalize.ts';
import type { ModelData } from './model.ts';
import type { BlendModel } from '../cf/repeat/blend.ts';
import type { ItemRepeat } from '../cf/repeat/stats.ts';
import type { CatalogFields, HistoryWanted, ListRef, ModelView, RankedList, RecStore, RepeatModel, UserHistory } from '../recommend/types.ts';

const EMPTY_LIST: RankedList = { ids: [], scores: [] };
const NO_HISTORY: UserHistory = { viewed: [], bought: [] };

class MemoryModelView implements ModelView {
  readonly builtAt = null;
  readonly repeat: RepeatModel | null;
  readonly blend: BlendModel | null;
  private readonly index: Map<string, number>;
  private readonly slotted = new Map<string, SlottedList>();

  constructor(
    private readonly data: ModelData,
    readonly version: number,
  ) {
    this.index = new Map(data.neighbours.itemIds.map((id, i) => [id, i]));
    this.repeat = data.repeat?.model ?? null;
    this.blend = data.blend ?? null;
  }

  async itemRepeats(ids: readonly string[]): Promise<(ItemRepeat | null)[]> {
    return ids.map((id) => this.data.repeat?.items.get(id) ?? null);
  }

  async neighbours(items: readonly string[]): Promise<SlottedList[]> {
    return items.map((item) => this.listOf(item));
  }

  async items(ids: readonly string[]): Promise<(CatalogFields | null)[]> {
    return ids.map((id) => this.data.catalog.get(id) ?? null);
  }

  async lists(refs: readonly ListRef[]): Promise<RankedList[]> {
    return refs.map((ref) => {
      if (ref.kind === 'brand') return this.data.byBrand.get(ref.brand) ?? EMPTY_LIST;
      return ref.category === undefined ? this.data.popular : (this.data.byCategory.get(ref.category) ?? EMPTY_LIST);
    });
  }

  /** Slots are the model's item indices: one numbering for every list, as the Redis store's per version. */
  private listOf(item: string): SlottedList {
    let list = this.slotted.get(item);
    if (list === undefined) {
      const i = this.index.get(item);
      const { ids, scores } = i === undefined ? EMPTY_LIST : rankedNeighbours(this.data.neighbours, i);
      list = slottedList(
        ids,
        scores,
        ids.map((id) => this.index.get(id)!),
      );
      this.slotted.set(item, list);
    }
    return list;
  }
}

export class MemoryRecStore implements RecStore {
  private readonly view: MemoryModelView;

  constructor(
    data: ModelData,
    private readonly historyOf: (user: string) => UserHistory | undefined,
    version = 1,
  ) {
    this.view = new MemoryModelView(data, version);
  }

  async model(): Promise<ModelView> {
    return this.view;
  }

  async history(user: string, wanted: HistoryWanted): Promise<UserHistory> {
    const h = this.historyOf(user) ?? NO_HISTORY;
    return { ...h, viewed: h.viewed.slice(0, wanted.viewed), bought: wanted.bought ? h.bought : [], purchases: wanted.purchases ? h.purchases : undefined };
  }
}
