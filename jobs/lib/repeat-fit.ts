// Runs the build's buy-again and for-you fits in a worker thread (jobs/lib/repeat-worker.ts),
// so the main thread stays free for I/O meanwhile. The events go over in shared memory (the build
// loads them so), the rest by structured clone.
import { Worker } from 'node:worker_threads';
import type { Interactions } from '../../src/cf/interactions.ts';
import type { BlendModel } from '../../src/cf/repeat/blend.ts';
import type { Config } from '../../src/config.ts';
import type { ModelData, ModelSpec } from '../../src/model/model.ts';
import type { CatalogFields } from '../../src/recommend/types.ts';

export interface RepeatFitRequest {
  x: Interactions;
  catalog: ReadonlyMap<string, CatalogFields>;
  spec: ModelSpec;
  config: Config;
  fitUsers: number;
}

export interface RepeatFitResult {
  repeat: ModelData['repeat'];
  blend: BlendModel | undefined;
  seconds: { repeat: number; blend: number };
}

export function fitRepeatInWorker(request: RepeatFitRequest): Promise<RepeatFitResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./repeat-worker.mjs', import.meta.url), { workerData: request });
    worker.once('message', (result: RepeatFitResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the repeat-fit worker stopped with code ${code}`));
    });
  });
}
