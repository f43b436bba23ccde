// What may go into a block: exclusions (explicit, seeds, purchases, already picked), catalog
// conditions (stock, category, price) and the per-brand cap. Pure: no I/O.
import type { CatalogFields } from './types.ts';
import type { Candidate, Source } from './types.ts';

export interface ItemFilter {
  category?: string;
  /** Only items in stock. */
  inStock?: boolean;
  minPrice?: number;
  maxPrice?: number;
  /** At most this many items of one brand (diversity); items without a brand are not capped. */
  brandCap?: number;
}

/** An item of the block, with the strategy that produced it and the fields to render it. */
export interface Picked extends Candidate {
  source: Source;
  /** The step of the chain that produced it: its source, or for-you (whose items name their generator as source). */
  via: Source | 'for-you';
  fields: CatalogFields;
}

/** Does the item meet the filter's catalog conditions? An item without a price fails a price bound. */
export function passes(filter: ItemFilter, item: CatalogFields): boolean {
  if (filter.inStock && !item.in_stock) return false;
  if (filter.category !== undefined && item.category !== filter.category) return false;
  if (filter.minPrice !== undefined && (item.price === null || item.price < filter.minPrice)) return false;
  if (filter.maxPrice !== undefined && (item.price === null || item.price > filter.maxPrice)) return false;
  return true;
}

function rejectsAny(filter: ItemFilter): boolean {
  return Boolean(filter.inStock) || filter.category !== undefined || filter.minPrice !== undefined || filter.maxPrice !== undefined || filter.brandCap !== undefined;
}

/** The block being filled: candidates are offered in rank order, the first `limit` that fit are kept. */
export class Selection {
  readonly picked: Picked[] = [];
  /** Excluded or already picked: what no strategy needs to propose any more. */
  readonly blocked: Set<string>;
  private readonly perBrand = new Map<string, number>();

  /** Takes ownership of `excluded`: picked items are added to it. */
  constructor(
    readonly limit: number,
    private readonly filter: ItemFilter,
    excluded: Set<string>,
  ) {
    this.blocked = excluded;
  }

  get remaining(): number {
    return this.limit - this.picked.length;
  }

  /**
   * How many unblocked candidates a strategy must rank to fill the block: exactly the room
   * left when nothing else can reject one, all of them when the filter may.
   */
  get budget(): number {
    return rejectsAny(this.filter) ? Infinity : this.remaining;
  }

  /** Keeps the candidate if there is room and it fits; `fields` null = not in the model's catalog. */
  offer(candidate: Candidate, fields: CatalogFields | null, source: Source, via: Source | 'for-you' = source): boolean {
    if (this.remaining <= 0 || fields === null || this.blocked.has(candidate.id) || !passes(this.filter, fields)) return false;
    if (this.filter.brandCap !== undefined && fields.brand !== null) {
      const count = this.perBrand.get(fields.brand) ?? 0;
      if (count >= this.filter.brandCap) return false;
      this.perBrand.set(fields.brand, count + 1);
    }
    this.blocked.add(candidate.id);
    this.picked.push({ id: candidate.id, score: candidate.score, because: candidate.because, repeat: candidate.repeat, source, via, fields });
    return true;
  }
}
