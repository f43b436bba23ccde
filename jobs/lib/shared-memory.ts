// Typed arrays in SharedArrayBuffers: worker_threads read them where they are, where a
// structured clone would copy them per worker (the build's events are gigabytes at 50M rows).
import type { Interactions } from '../../src/cf/interactions.ts';

type Typed = Uint8Array | Uint32Array | Float32Array | Float64Array;

/** A copy of `array` in shared memory. */
export function shared<T extends Typed>(array: T): T {
  const Ctor = array.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Ctor(new SharedArrayBuffer(array.byteLength));
  copy.set(array as never);
  return copy;
}

/** The same interactions with their columns in shared memory (the ids stay plain arrays). */
export function sharedInteractions(x: Interactions): Interactions {
  return { ...x, users: shared(x.users), items: shared(x.items), weights: shared(x.weights), times: shared(x.times), ...(x.views ? { views: shared(x.views) } : {}) };
}
