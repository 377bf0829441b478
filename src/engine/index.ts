export { createEngine } from './engine.js';
export { maskPhone, redactCardNumbers } from './redact.js';
export type {
  Engine,
  EngineChange,
  EngineLogger,
  EngineOptions,
  HandleInboundOptions,
  InboundResult,
} from './types.js';
export {
  type EngineInWorkerOptions,
  engineInWorker,
  serveEngine,
  type WorkerEngine,
  type WorkerEngineMethods,
} from './worker.js';
