// The purchases of a transaction file or a bundled data set, read with the import job's readers,
// as the lifecycle maths takes them: revenue = quantity × price; other events, ratings and returns
// are left out and counted by reason, malformed rows counted and the first ten kept.
import { access } from 'node:fs/promises';
import type { Purchase } from '../../src/lifecycle/purchase-days.ts';
import { fmt, Progress } from './progress.ts';
import { openSource, type SourceRef } from './sources.ts';

export interface InputCounts {
  rows: number;
  purchases: number;
  purchasesWithoutPrice: number;
  skipped: Record<string, number>;
  rejected: number;
  firstRejected: string[];
}

export async function readPurchases(sources: readonly SourceRef[]): Promise<{ purchases: Purchase[]; counts: InputCounts }> {
  const purchases: Purchase[] = [];
  const counts: InputCounts = { rows: 0, purchases: 0, purchasesWithoutPrice: 0, skipped: {}, rejected: 0, firstRejected: [] };
  const skip = (reason: string) => {
    counts.skipped[reason] = (counts.skipped[reason] ?? 0) + 1;
  };
  for (const { format, path, name } of sources) {
    try {
      await access(path);
    } catch {
      throw new Error(`cannot read ${path}: no such file or not readable`);
    }
    const source = await openSource(format, path, name);
    const progress = new Progress(`reading ${path}`, source.csv.sizeBytes, 'rows');
    const before = { rows: counts.rows, purchases: purchases.length };
    let line = 0;
    for await (const row of source.rows) {
      // A line can give several rows (a data set's catalog row beside its event): lines count.
      if (row.line !== line) counts.rows++;
      line = row.line;
      if (counts.rows % 10_000 === 0) progress.update(source.csv.bytesRead(), counts.rows - before.rows);
      if (row.kind === 'reject') {
        counts.rejected++;
        if (counts.firstRejected.length < 10) counts.firstRejected.push(`${name} line ${row.line}: ${row.reason}`);
        continue;
      }
      if (row.kind === 'skip') skip(row.reason);
      if (row.kind !== 'event') continue;
      const e = row.event;
      if (e.type !== 'purchase' || e.weight !== null) {
        skip(e.weight !== null ? 'weight or rating, not a purchase' : `${e.type} event`);
        continue;
      }
      if (e.quantity <= 0 || (e.price !== null && e.price < 0)) {
        skip('quantity ≤ 0 or negative price (a return?)');
        continue;
      }
      if (e.price === null) counts.purchasesWithoutPrice++;
      purchases.push({ user: e.user, ts: e.occurredAt.getTime() / 1000, revenue: e.quantity * (e.price ?? 0) });
    }
    progress.finish(counts.rows - before.rows, `${fmt(purchases.length - before.purchases)} purchases`);
  }
  counts.purchases = purchases.length;
  return { purchases, counts };
}
