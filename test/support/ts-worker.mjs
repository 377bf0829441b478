// Starts a TypeScript worker module under vitest/tsx: registers tsx's loader in this worker thread, then
// imports `workerData.entry` (a file: URL). Node does not pass `--import` loaders on to worker threads.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
