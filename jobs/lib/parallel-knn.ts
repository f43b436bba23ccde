// Shards the item-item neighbour computation over worker_threads. The matrices go to the
// workers once, in SharedArrayBuffers (no copy per worker); items are handed out in small
// ranges from a queue, so a worker that drew popular (expensive) items does not hold up the rest.
import { Worker } from 'node:worker_threads';
import type { Csr } from '../../src/cf/csr.ts';
import { fitItemKnnRange, type ItemKnnInput, type ItemKnnOptions } from '../../src/cf/item-knn.ts';
import { joinShards, type NeighbourLists, type NeighbourShard } from '../../src/cf/neighbours.ts';
import { shared } from './shared-memory.ts';

function sharedCsr(m: Csr): Csr {
  return { nRows: m.nRows, nCols: m.nCols, indptr: shared(m.indptr), indices: shared(m.indices), values: shared(m.values) };
}

/** Item ranges of about equal cost (Σ over an item's users of their item counts). */
export function costBalancedRanges(input: ItemKnnInput, parts: number): [number, number][] {
  const { itemUsers, userItems } = input;
  const n = itemUsers.nRows;
  const cost = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let c = 1;
    for (let a = itemUsers.indptr[i]; a < itemUsers.indptr[i + 1]; a++) {
      const u = itemUsers.indices[a];
      c += userItems.indptr[u + 1] - userItems.indptr[u];
    }
    cost[i] = c;
    total += c;
  }
  const ranges: [number, number][] = [];
  let from = 0;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += cost[i];
    if (acc >= (total / parts) * (ranges.length + 1) || i === n - 1) {
      ranges.push([from, i + 1]);
      from = i + 1;
    }
  }
  return ranges;
}

export async function fitItemKnnParallel(itemIds: string[], input: ItemKnnInput, options: ItemKnnOptions, workers: number, onProgress?: (itemsDone: number) => void): Promise<NeighbourLists> {
  const n = itemIds.length;
  if (workers <= 1 || n < 2000) {
    // Thread start-up and hand-off cost more than they save on small catalogs.
    const shard = fitItemKnnRange(input, 0, n, options);
    onProgress?.(n);
    return joinShards(itemIds, [shard]);
  }
  const sharedInput: ItemKnnInput = { ...input, userItems: sharedCsr(input.userItems), itemUsers: sharedCsr(input.itemUsers), totals: shared(input.totals) };
  const queue = costBalancedRanges(input, workers * 16);
  const shards: NeighbourShard[] = [];
  let done = 0;
  const pool = Array.from({ length: workers }, () => new Worker(new URL('./knn-worker.mjs', import.meta.url), { workerData: { input: sharedInput, options } }));
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const next = () => {
              const range = queue.shift();
              if (!range) {
                resolve();
                return;
              }
              worker.postMessage({ from: range[0], to: range[1] });
            };
            worker.on('message', (shard: NeighbourShard) => {
              shards.push(shard);
              done += shard.to - shard.from;
              onProgress?.(done);
              next();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (code !== 0) reject(new Error(`build worker exited with code ${code}`));
            });
            next();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return joinShards(itemIds, shards);
}
