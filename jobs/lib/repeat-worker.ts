// The build's buy-again and for-you fits (src/model/repeat.ts) in a worker thread of their own:
// CPU-bound for seconds, they run while the main thread writes the users' lists (I/O), and the
// item-kNN's workers are done by then. See fitRepeatInWorker.
import { parentPort, workerData } from 'node:worker_threads';
import { fitForYou, fitRepeat, latestFifth } from '../../src/model/repeat.ts';
import { recOptions } from '../../src/recommend/request.ts';
import type { RepeatFitRequest, RepeatFitResult } from './repeat-fit.ts';

const { x, catalog, spec, config, fitUsers } = workerData as RepeatFitRequest;
let t0 = performance.now();
const repeat = fitRepeat(x, latestFifth, 10, fitUsers);
const repeatSeconds = (performance.now() - t0) / 1000;
t0 = performance.now();
const blend = await fitForYou({ x, catalog, spec, repeat: repeat?.model, split: latestFifth, options: recOptions(config) }, 10, fitUsers);
parentPort!.postMessage({ repeat, blend, seconds: { repeat: repeatSeconds, blend: (performance.now() - t0) / 1000 } } satisfies RepeatFitResult);
