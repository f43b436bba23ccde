// Item–item co-occurrence AᵀA one row at a time: row i walks the users of i and
// their items, accumulating into a dense scratch row and resetting only what it
// touched. Memory is O(nItems) per worker, never nItems², and every row is independent of
// the others, so a build can shard rows over threads, or compute only the rows it needs.

import type { Csr } from './csr.ts';

/** One computed row. Reused between rows: read it inside the visitor, don't keep it. */
export interface CooccurrenceRow {
  item: number;
  /** Items co-occurring with `item`, itself included, in first-visit order; entries [0, length) are valid. */
  touched: Uint32Array;
  length: number;
  /** counts[j]: users who have both `item` and j (binary matrix). */
  counts: Float64Array;
  /** dots[j]: Σ_u w_u,item · w_uj on the weighted matrix; the same array as `counts` when not weighted. */
  dots: Float64Array;
}

/** The rows from..to-1. */
export function* itemRange(from: number, to: number): Generator<number> {
  for (let item = from; item < to; item++) yield item;
}

/**
 * Visits the `rows` of AᵀA (e.g. itemRange(from, to)), with A = `userItems` (users × items) and
 * `itemUsers` = Aᵀ, sharing one scratch row. Cost: Σ over the rows' users of their item counts.
 */
export function forEachCooccurrenceRow(userItems: Csr, itemUsers: Csr, rows: Iterable<number>, weighted: boolean, visit: (row: CooccurrenceRow) => void): void {
  const counts = new Float64Array(userItems.nCols);
  const row: CooccurrenceRow = {
    item: 0,
    touched: new Uint32Array(userItems.nCols),
    length: 0,
    counts,
    dots: weighted ? new Float64Array(userItems.nCols) : counts,
  };
  const { touched, dots } = row;
  const { indptr: uPtr, indices: uItems, values: uWeights } = userItems;
  const { indptr: iPtr, indices: iUsers, values: iWeights } = itemUsers;
  for (const item of rows) {
    let length = 0;
    for (let a = iPtr[item]; a < iPtr[item + 1]; a++) {
      const user = iUsers[a];
      const w = iWeights[a];
      for (let b = uPtr[user]; b < uPtr[user + 1]; b++) {
        const j = uItems[b];
        if (counts[j] === 0) touched[length++] = j;
        counts[j] += 1;
        if (weighted) dots[j] += w * uWeights[b];
      }
    }
    row.item = item;
    row.length = length;
    visit(row);
    for (let t = 0; t < length; t++) {
      counts[touched[t]] = 0;
      dots[touched[t]] = 0;
    }
  }
}

/** The diagonal of AᵀA: users per item, or Σ_u w_ui² when weighted. */
export function itemTotals(itemUsers: Csr, weighted: boolean): Float64Array {
  const totals = new Float64Array(itemUsers.nRows);
  for (let i = 0; i < itemUsers.nRows; i++) {
    let sum = 0;
    for (let a = itemUsers.indptr[i]; a < itemUsers.indptr[i + 1]; a++) {
      sum += weighted ? itemUsers.values[a] * itemUsers.values[a] : 1;
    }
    totals[i] = sum;
  }
  return totals;
}
