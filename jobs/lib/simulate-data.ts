// The replay's data: a data set's export split at a cut-off. Rows before it pass on to the import
// (the shop's past, what the model learns from); purchases after it are held out (what the
// visitors really bought next). Sampling by a hash of the user id shrinks a run (tests).
import { fnv1a32 } from '../../src/experiments/hash.ts';
import type { SourceFile, SourceRow } from './sources.ts';

export interface Purchase {
  user: string;
  item: string;
  quantity: number;
  /** Unit price. */
  price: number | null;
  at: Date;
}

export interface ReplayData {
  /** Purchases at or after the cut-off, in file order. */
  purchases: Purchase[];
  /** Per user, the time of their last purchase of each item before the cut-off. */
  lastBought: Map<string, Map<string, number>>;
  trainEvents: number;
}

/** 1 = every user; n > 1 = the users whose id hashes to 0 modulo n (a stable ~1/n sample). */
export function userSample(every: number): (user: string) => boolean {
  return every <= 1 ? () => true : (user) => fnv1a32(user) % every === 0;
}

/**
 * The source as the import should see it: catalog rows and events before `cutoff` only (of the
 * sampled users). Later purchases go to `replay.purchases` while the import reads.
 */
export function trainPart(source: SourceFile, cutoff: Date, keep: (user: string) => boolean, replay: ReplayData): SourceFile {
  async function* rows(): AsyncIterable<SourceRow> {
    for await (const row of source.rows) {
      if (row.kind !== 'event') {
        yield row;
        continue;
      }
      const e = row.event;
      if (!keep(e.user)) continue;
      if (e.occurredAt < cutoff) {
        replay.trainEvents++;
        if (e.type === 'purchase') {
          const items = replay.lastBought.get(e.user) ?? new Map<string, number>();
          items.set(e.item, Math.max(items.get(e.item) ?? 0, e.occurredAt.getTime()));
          replay.lastBought.set(e.user, items);
        }
        yield row;
      } else if (e.type === 'purchase') {
        replay.purchases.push({ user: e.user, item: e.item, quantity: e.quantity, price: e.price, at: e.occurredAt });
      }
    }
  }
  return { ...source, rows: rows() };
}
