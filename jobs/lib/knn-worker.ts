// worker_thread of the build: computes neighbour lists for the item ranges it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { fitItemKnnRange, type ItemKnnInput, type ItemKnnOptions } from '../../src/cf/item-knn.ts';

const { input, options } = workerData as { input: ItemKnnInput; options: ItemKnnOptions };

parentPort!.on('message', ({ from, to }: { from: number; to: number }) => {
  const shard = fitItemKnnRange(input, from, to, options);
  parentPort!.postMessage(shard, [shard.offsets.buffer, shard.neighbours.buffer, shard.scores.buffer] as ArrayBuffer[]);
});
