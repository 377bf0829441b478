/**
 * The engine on a worker thread: `serveEngine` runs inside a worker module, `engineInWorker` gives the main
 * thread an object with the engine's methods that forwards every call to it. The webhook handlers only call
 * `handleInbound`/`handleStatus`, so they take it as their `engine` unchanged; the event loop that answers
 * webhooks then never runs a step or a storage call (better-sqlite3 is synchronous), and a second core does.
 * Calls made in the same callback cross the thread boundary as one message, and so do the results settled in
 * one callback on the worker. A worker that dies fails the calls in flight with `SMSFLOW_ERR_ENGINE_UNAVAILABLE`
 * (the webhook handlers answer 503 + Retry-After, so the provider redelivers, and the engine's idempotency makes
 * that safe); the next call after `restartDelayMs` starts a new worker.
 */
import { isMainThread, parentPort, Worker, type WorkerOptions } from 'node:worker_threads';
import { errorCodes, SmsflowError, type SmsflowErrorCode } from '../core/errors.js';
import type { Engine, EngineChange, EngineLogger } from './types.js';

/** The engine's methods a worker serves: everything but the `bot` and `storage` objects themselves. */
export type WorkerEngineMethods = Omit<Engine, 'bot' | 'storage' | 'start' | 'onChange'>;

/** What {@link engineInWorker} returns: the engine's methods, answered by the engine on the worker. */
export interface WorkerEngine extends WorkerEngineMethods {
  /** Starts the engine's dispatcher loop on the worker (again on every restarted worker). */
  start(options?: { intervalMs?: number }): void;
  /** Subscribes to the engine's changes on the worker; returns the unsubscribe function. */
  onChange(listener: (change: EngineChange) => void): () => void;
  /** Stops the engine's loop, closes its storage and ends the worker. Later calls reject. */
  close(): Promise<void>;
}

/** Options of {@link engineInWorker}. */
export interface EngineInWorkerOptions {
  /** Given to the worker module as `workerData` (structured-cloneable: paths, settings, not functions). */
  workerData?: unknown;
  /** More options for `new Worker` (`resourceLimits`, `env`, `stdout`, …). */
  worker?: Omit<WorkerOptions, 'workerData'>;
  /** After a worker exits unexpectedly, calls fail at once for this long; the first call after it starts a new worker. @default 1000 */
  restartDelayMs?: number;
  /** How long `close()` waits for the worker to stop cleanly before terminating it. @default 10000 */
  closeTimeoutMs?: number;
  /** Where worker failures are reported. @default a silent logger */
  logger?: EngineLogger;
}

type Method = keyof WorkerEngineMethods | 'start' | 'subscribe' | 'unsubscribe' | 'close';
/** One call: its id, the method and its arguments. */
type Call = [id: number, method: Method, args: unknown[]];
/** One answer: the call's id, then ok and the value, or not ok and the error. */
type Answer = [id: number, ok: true, value: unknown] | [id: number, ok: false, error: WireError];
/** What the worker posts: the answers and changes of one callback, or a fatal start failure. */
type FromWorker = { answers: Answer[]; changes: EngineChange[] } | { failed: WireError };

interface WireError {
  name: string;
  message: string;
  code?: string;
  issues?: { path: string; message: string }[];
}

const METHODS: readonly Method[] = [
  'handleInbound',
  'handleStatus',
  'dispatch',
  'sendAgentReply',
  'releaseToBot',
  'closeThread',
  'takeThread',
  'dispatchOutbox',
  'recoverEffects',
  'purgeOlderThan',
  'stop',
];

const silent: EngineLogger = { debug() {}, info() {}, warn() {}, error() {} };

function toWire(error: unknown): WireError {
  if (error instanceof Error) {
    const { code, issues } = error as Error & { code?: unknown; issues?: unknown };
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(Array.isArray(issues) ? { issues: issues as WireError['issues'] } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** The error as the engine threw it on the worker: a SmsflowError keeps its code and issues. */
function fromWire(wire: WireError): Error {
  if (wire.code !== undefined && Object.hasOwn(errorCodes, wire.code)) {
    return new SmsflowError(wire.code as SmsflowErrorCode, wire.message.replace(/^\[smsflow\] /, ''), {
      issues: wire.issues ?? [],
    });
  }
  const error = new Error(wire.message);
  error.name = wire.name;
  return error;
}

function unavailable(message: string, cause?: unknown): SmsflowError {
  return new SmsflowError('SMSFLOW_ERR_ENGINE_UNAVAILABLE', message, cause === undefined ? {} : { cause });
}

/**
 * Serves an engine to the thread that started this worker with {@link engineInWorker}. Call it once, at the top
 * level of the worker module; `engine` may be a function that builds it (awaited), so its errors reach the main
 * thread as the failure of every call.
 *
 * @param engine - The engine, or a (possibly async) function returning it.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` when not called on a worker thread.
 * @example
 * // engine-worker.js
 * serveEngine(() => createEngine({ bot, storage: sqliteStorage({ path: workerData.dbPath }) }));
 */
export function serveEngine(engine: Engine | (() => Engine | Promise<Engine>)): void {
  const port = parentPort;
  if (isMainThread || !port) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      'serveEngine must run in a worker thread started by engineInWorker(), not on the main thread.',
    );
  }
  let answers: Answer[] = [];
  let changes: EngineChange[] = [];
  let unsubscribe: (() => void) | null = null;
  const flush = () => {
    const batch = { answers, changes } satisfies FromWorker;
    answers = [];
    changes = [];
    try {
      port.postMessage(batch);
    } catch {
      // A value that cannot be cloned: each answer alone, the broken one as an error.
      for (const answer of batch.answers) {
        try {
          port.postMessage({ answers: [answer], changes: [] } satisfies FromWorker);
        } catch (error) {
          port.postMessage({
            answers: [[answer[0], false, toWire(error)]],
            changes: [],
          } satisfies FromWorker);
        }
      }
      if (batch.changes.length > 0)
        port.postMessage({ answers: [], changes: batch.changes } satisfies FromWorker);
    }
  };
  const queue = () => {
    // At the end of the callback that produced them (a group commit settles a whole wave in one): waiting for
    // the end of the turn held every answer back by the rest of the worker's turn.
    if (answers.length + changes.length === 1) queueMicrotask(flush);
  };
  const answer = (entry: Answer) => {
    answers.push(entry);
    queue();
  };

  const ready = Promise.resolve().then(() => (typeof engine === 'function' ? engine() : engine));
  // Calls that arrive after a failed start are answered with it, as the engine being unavailable.
  const notStarted = ready.then(
    () => null,
    (error: unknown) => {
      const wire = toWire(error);
      port.postMessage({ failed: wire } satisfies FromWorker);
      setImmediate(() => port.close());
      return unavailable(`the engine's worker could not start: ${wire.message}`);
    },
  );

  const run = async (e: Engine, method: Method, args: unknown[]): Promise<unknown> => {
    switch (method) {
      case 'start':
        e.start(args[0] as { intervalMs?: number } | undefined);
        return undefined;
      case 'subscribe':
        unsubscribe ??= e.onChange((change) => {
          changes.push(change);
          queue();
        });
        return undefined;
      case 'unsubscribe':
        unsubscribe?.();
        unsubscribe = null;
        return undefined;
      case 'close':
        unsubscribe?.();
        await e.stop();
        await e.storage.close();
        return undefined;
      default: {
        if (!METHODS.includes(method)) throw new Error(`unknown engine method ${JSON.stringify(method)}`);
        const fn = e[method] as (...a: unknown[]) => Promise<unknown>;
        return fn.apply(e, args);
      }
    }
  };

  port.on('message', (calls: Call[]) => {
    for (const [id, method, args] of calls) {
      ready
        .then(
          (e) => run(e, method, args),
          () =>
            notStarted.then((error) => {
              throw error;
            }),
        )
        .then(
          (value) => {
            answer([id, true, value]);
            if (method === 'close') setImmediate(() => port.close());
          },
          (error: unknown) => answer([id, false, toWire(error)]),
        );
    }
  });
}

/**
 * Starts `module` on a worker thread (it calls {@link serveEngine}) and returns the engine's methods, answered
 * there. Pass it as `engine` to the webhook handlers. The module must be JavaScript Node can load as it is
 * (in TypeScript projects, the compiled file).
 *
 * @param module - Path or `file:` URL of the worker module.
 * @param options - `workerData` for the module, restart and close timing, a logger.
 * @returns A {@link WorkerEngine}; call `close()` on shutdown.
 * @example
 * const engine = engineInWorker(new URL('./engine-worker.js', import.meta.url), { workerData: { dbPath } });
 * http.createServer(toNodeListener(createInboundHandler({ engine, channel, publicUrl }))).listen(3000);
 */
export function engineInWorker(module: string | URL, options: EngineInWorkerOptions = {}): WorkerEngine {
  const restartDelayMs = options.restartDelayMs ?? 1_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  const logger = options.logger ?? silent;
  if (
    !Number.isFinite(restartDelayMs) ||
    restartDelayMs < 0 ||
    !Number.isFinite(closeTimeoutMs) ||
    closeTimeoutMs < 0
  ) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `engineInWorker: restartDelayMs and closeTimeoutMs must be non-negative numbers (received ${String(restartDelayMs)}, ${String(closeTimeoutMs)}).`,
    );
  }

  let worker: Worker | null = null;
  let diedAt = Number.NEGATIVE_INFINITY;
  let lastFailure: Error | null = null;
  let closed = false;
  let nextId = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let outgoing: Call[] = [];
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // At the end of the current callback, not of the turn: the worker starts on the first webhooks while this
    // thread still reads the next ones (a turn-sized batch kept one of the two threads waiting for the other).
    queueMicrotask(flush);
  };
  let started: { intervalMs?: number } | null = null; // null: start() never called
  const listeners = new Set<(change: EngineChange) => void>();

  const failAll = (error: Error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
    outgoing = [];
  };

  const spawn = (): Worker => {
    const w = new Worker(module, { ...options.worker, workerData: options.workerData });
    w.unref(); // referenced only while calls are in flight, so an idle engine never keeps the process alive
    w.on('message', (message: FromWorker) => {
      if ('failed' in message) {
        lastFailure = unavailable(
          `the engine's worker could not start: ${message.failed.message}`,
          fromWire(message.failed),
        );
        logger.error({ error: message.failed.message }, 'engine worker failed to start');
        return;
      }
      for (const entry of message.answers) {
        const call = pending.get(entry[0]);
        if (!call) continue;
        pending.delete(entry[0]);
        if (entry[1]) call.resolve(entry[2]);
        else call.reject(fromWire(entry[2]));
      }
      for (const change of message.changes) {
        for (const listener of listeners) {
          try {
            listener(change);
          } catch (error) {
            logger.warn({ error: (error as Error).message }, 'engine change listener threw');
          }
        }
      }
      if (pending.size === 0) w.unref();
    });
    w.on('error', (error) => {
      lastFailure = unavailable(`the engine's worker failed: ${error.message}`, error);
      logger.error({ error: error.message }, 'engine worker failed');
    });
    w.on('exit', (code) => {
      if (worker !== w) return;
      worker = null;
      diedAt = performance.now();
      const error =
        lastFailure ?? unavailable(`the engine's worker exited (code ${code}) with calls in flight.`);
      lastFailure = null;
      if (!closed) logger.error({ code, inFlight: pending.size }, 'engine worker exited');
      failAll(error);
    });
    return w;
  };

  function flush() {
    scheduled = false;
    const calls = outgoing;
    const w = worker;
    // No worker: it exited after these were queued, and its exit already failed them and emptied the queue.
    if (calls.length === 0 || !w) return;
    outgoing = [];
    try {
      w.postMessage(calls);
    } catch {
      // An argument that cannot be cloned (a function, a class instance with private state): only its call fails.
      for (const call of calls) {
        try {
          w.postMessage([call]);
        } catch (error) {
          pending.get(call[0])?.reject(error);
          pending.delete(call[0]);
        }
      }
    }
  }

  const ensureWorker = (): Worker => {
    if (worker) return worker;
    if (performance.now() - diedAt < restartDelayMs) {
      throw unavailable(
        `the engine's worker exited less than ${restartDelayMs} ms ago; a new one starts on the first call after that.`,
      );
    }
    worker = spawn();
    // A restarted worker carries on what the old one was doing.
    if (listeners.size > 0) outgoing.push([nextId++, 'subscribe', []]);
    if (started !== null) outgoing.push([nextId++, 'start', [started]]);
    if (outgoing.length > 0) schedule();
    return worker;
  };

  const call = (method: Method, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (closed) {
        reject(unavailable('the engine was closed (close() was called).'));
        return;
      }
      let w: Worker;
      try {
        w = ensureWorker();
      } catch (error) {
        reject(error);
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      w.ref();
      outgoing.push([id, method, args]);
      schedule();
    });

  // Fire-and-forget calls (start, subscribe) still report their failure.
  const post = (method: Method, args: unknown[]) => {
    call(method, args).catch((error: unknown) =>
      logger.warn({ method, error: (error as Error).message }, 'engine worker call failed'),
    );
  };

  // For start() and onChange() without a worker: the next worker (now, or after the restart delay) applies them.
  const revive = () => {
    if (closed) return;
    try {
      ensureWorker();
    } catch (error) {
      logger.warn({ error: (error as Error).message }, 'engine worker not restarted yet');
    }
  };

  ensureWorker();

  return {
    handleInbound: (message, opts) =>
      call('handleInbound', [message, opts]) as ReturnType<Engine['handleInbound']>,
    handleStatus: (status) => call('handleStatus', [status]) as ReturnType<Engine['handleStatus']>,
    dispatch: (contact, event) => call('dispatch', [contact, event]) as ReturnType<Engine['dispatch']>,
    sendAgentReply: (key, text, agent) =>
      call('sendAgentReply', [key, text, agent]) as ReturnType<Engine['sendAgentReply']>,
    releaseToBot: (key) => call('releaseToBot', [key]) as Promise<void>,
    closeThread: (key) => call('closeThread', [key]) as Promise<void>,
    takeThread: (key, agent) => call('takeThread', [key, agent]) as Promise<void>,
    dispatchOutbox: () => call('dispatchOutbox', []) as Promise<number>,
    recoverEffects: (opts) => call('recoverEffects', [opts]) as Promise<number>,
    purgeOlderThan: (days) => call('purgeOlderThan', [days]) as Promise<number>,
    start(opts) {
      started = opts ?? {};
      if (worker) post('start', [started]);
      else revive();
    },
    async stop() {
      started = null;
      if (worker && !closed) await call('stop', []);
    },
    onChange(listener) {
      listeners.add(listener);
      if (listeners.size === 1) {
        if (worker) post('subscribe', []);
        else revive();
      }
      return () => {
        if (listeners.delete(listener) && listeners.size === 0 && worker && !closed) post('unsubscribe', []);
      };
    },
    async close() {
      if (closed) return;
      const w = worker;
      if (!w) {
        closed = true;
        return;
      }
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      const done = call('close', []);
      closed = true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), closeTimeoutMs);
      });
      try {
        const outcome = await Promise.race([done.then(() => exited), timeout]);
        if (outcome === 'timeout') {
          logger.warn({ closeTimeoutMs }, 'engine worker did not stop in time; terminated');
          await w.terminate();
        }
      } catch (error) {
        logger.warn({ error: (error as Error).message }, 'engine worker failed to close cleanly; terminated');
        await w.terminate();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
