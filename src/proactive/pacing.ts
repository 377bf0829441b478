// Outbound pacing per sending number, so a campaign does not overflow the provider's queue (toll-free 3 MPS,
// long code 1 segment/s, 10DLC per-campaign segments per minute; sms-facts §5). Replies to customers wait in
// the same queue but go first: a campaign never delays a conversation by more than one slot.
import type { ChannelAdapter } from '../adapters/channels/types.js';
import { SmsflowError } from '../core/errors.js';
import { measureSegments } from '../core/segments.js';

/** Rates of {@link createPacer}; give one or both (the stricter one wins per message). */
export interface PacingOptions {
  /** Messages per second per sending number. */
  messagesPerSecond?: number;
  /** Segments per minute per sending number (10DLC TPM). */
  segmentsPerMinute?: number;
  /** @default () => Date.now() */
  now?: () => number;
  /** @default real setTimeout; tests pass one that advances a fake clock */
  sleep?: (ms: number) => Promise<void>;
}

/** Which queue a send waits in: replies go before campaign sends. */
export type SendPriority = 'reply' | 'campaign';

/** A pacing gate: `await pacer.acquire(from, segments, priority)` before each send. */
export interface Pacer {
  acquire(from: string, segments: number, priority: SendPriority): Promise<void>;
  /** Sends waiting per sending number. */
  waiting(from: string): number;
}

interface Waiter {
  segments: number;
  priority: SendPriority;
  resolve: () => void;
}

/**
 * Creates a pacing gate. Each sending number has its own schedule: a send takes a slot of
 * `max(1000 / messagesPerSecond, segments * 60000 / segmentsPerMinute)` ms; waiting replies take the next slot
 * before waiting campaign sends. No bursts after idle time: slots are spaced from the last send.
 *
 * @example
 * const pacer = createPacer({ messagesPerSecond: 3 });
 * await pacer.acquire('+18005550100', 1, 'campaign');
 */
export function createPacer(options: PacingOptions): Pacer {
  const mps = options.messagesPerSecond;
  const spm = options.segmentsPerMinute;
  for (const [name, v] of [
    ['messagesPerSecond', mps],
    ['segmentsPerMinute', spm],
  ] as const) {
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) {
      throw new SmsflowError(
        'SMSFLOW_ERR_INVALID_CONFIG',
        `pacing.${name} is ${String(v)}; give a positive number such as 3, or leave it out.`,
      );
    }
  }
  const now = options.now ?? (() => Date.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const lanes = new Map<string, { nextAt: number; queue: Waiter[]; pumping: boolean }>();
  const spacing = (segments: number) =>
    Math.max(mps ? 1000 / mps : 0, spm ? (Math.max(1, segments) * 60_000) / spm : 0);

  async function pump(from: string): Promise<void> {
    const lane = lanes.get(from)!;
    if (lane.pumping) return;
    lane.pumping = true;
    try {
      while (lane.queue.length > 0) {
        const wait = lane.nextAt - now();
        if (wait > 0) {
          await sleep(wait);
          continue;
        }
        // Replies first, then campaign sends, each in arrival order.
        const index = lane.queue.findIndex((w) => w.priority === 'reply');
        const [next] = lane.queue.splice(index === -1 ? 0 : index, 1);
        lane.nextAt = Math.max(now(), lane.nextAt) + spacing(next!.segments);
        next!.resolve();
      }
    } finally {
      lane.pumping = false;
    }
  }

  return {
    acquire(from, segments, priority) {
      let lane = lanes.get(from);
      if (!lane) {
        lane = { nextAt: 0, queue: [], pumping: false };
        lanes.set(from, lane);
      }
      const done = new Promise<void>((resolve) => lane.queue.push({ segments, priority, resolve }));
      void pump(from);
      return done;
    },
    waiting: (from) => lanes.get(from)?.queue.length ?? 0,
  };
}

/**
 * Wraps a channel adapter so every send waits for the pacer. Proactive sends (outbox ids starting with
 * `proactive:`, as the proactive coordinator makes them) wait as `campaign`; everything else as `reply`.
 * Keep `outbox.batchSize × slot` below `outbox.leaseMs` so a claimed batch is sent before its lease ends.
 *
 * @example
 * const sms = pacedChannel(twilioChannel({ ... }), createPacer({ messagesPerSecond: 1 }));
 */
export function pacedChannel(channel: ChannelAdapter, pacer: Pacer): ChannelAdapter {
  return new Proxy(channel, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (message: Parameters<ChannelAdapter['send']>[0]) => {
        const segments = measureSegments(message.text).segments;
        await pacer.acquire(
          message.from ?? 'default',
          segments,
          message.id.startsWith('proactive:') ? 'campaign' : 'reply',
        );
        return target.send(message);
      };
    },
  });
}
