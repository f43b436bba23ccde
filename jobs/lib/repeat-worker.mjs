// Entry of the build's repeat-fit worker thread: Node does not carry tsx's loader into
// workers, so register it here before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./repeat-worker.ts');
