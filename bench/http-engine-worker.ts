/** The worker module of bench/http.ts's smsflow side: serves {@link benchEngine} on `workerData.dbPath`. */
import { workerData } from 'node:worker_threads';
import { serveEngine } from '../src/engine/worker.js';
import { benchEngine } from './http-engine.js';

serveEngine(() => benchEngine((workerData as { dbPath: string }).dbPath));
