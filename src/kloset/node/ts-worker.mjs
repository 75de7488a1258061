// Starts a worker whose entry is TypeScript (development and tests run the sources through
// tsx; worker threads do not inherit the parent's loader). A built app points workers at .js.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
