import { randomUUID } from 'node:crypto';
import type { ChannelAdapter } from '../adapters/channels/types.js';
import type { OutboxMessage, StorageAdapter } from '../adapters/storage/types.js';
import type { EngineChange, EngineLogger, EngineOptions } from './types.js';

/** Marks a send whose outcome is unknown until the provider answers; seen again after a crash. */
const IN_FLIGHT = 'in_flight';

interface DispatcherOptions {
  storage: StorageAdapter;
  channels: { [channel: string]: ChannelAdapter };
  clock: () => Date;
  logger: EngineLogger;
  settings: NonNullable<EngineOptions['outbox']>;
  onOptedOut: (row: OutboxMessage) => Promise<void>;
  onChange: (change: EngineChange) => void;
}

/**
 * The outbox dispatcher: claims due messages with a lease, re-checks consent at send time, sends through the
 * channel adapter, and records the provider's id or error. Retryable failures back off exponentially.
 *
 * Exactly-once where it can be: a message is marked in flight (with its attempt counted) before the provider
 * call, so after a crash mid-send the message is sent at most once more, and that resend is recorded.
 */
export function createDispatcher(options: DispatcherOptions) {
  const { storage, channels, clock, logger } = options;
  const maxAttempts = options.settings.maxAttempts ?? 5;
  const baseBackoff = options.settings.baseBackoffMs ?? 1000;
  const maxBackoff = options.settings.maxBackoffMs ?? 300_000;
  const leaseMs = options.settings.leaseMs ?? 30_000;
  const batchSize = options.settings.batchSize ?? 20;
  const owner = options.settings.owner ?? `dispatcher-${randomUUID()}`;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let again = false;
  let stopped = true;

  async function sendOne(row: OutboxMessage): Promise<void> {
    const now = () => clock().toISOString();
    const update = async (fields: Parameters<StorageAdapter['updateOutbox']>[1]) => {
      const ok = await storage.updateOutbox(row.id, { ...fields, leaseOwner: owner }, now());
      if (ok)
        options.onChange({ type: 'outbox', key: row.conversationKey, id: row.id, status: fields.status });
      return ok;
    };
    // Consent is checked again at send time: an opt-out that landed after the step cancels the send.
    const conversation = await storage.getConversation(row.conversationKey);
    if (conversation?.state.consent.status === 'opted_out' && row.kind !== 'compliance') {
      if (row.errorCode === IN_FLIGHT) {
        // A send started before the opt-out and was never confirmed (its dispatcher died): it may have gone out,
        // so it is not "cancelled"; it is not sent again either.
        logger.warn({ outboxId: row.id }, 'unconfirmed send not retried: recipient opted out');
        await update({ status: 'failed', errorCode: 'unconfirmed' });
        return;
      }
      logger.info({ outboxId: row.id }, 'send cancelled: recipient opted out');
      await update({ status: 'cancelled', errorCode: 'opted_out' });
      return;
    }
    if (row.errorCode === IN_FLIGHT && row.attempts >= 2) {
      // Two sends already started without a confirmation: give up rather than risk a third copy.
      logger.warn({ outboxId: row.id }, 'send unconfirmed twice; marked failed');
      await update({ status: 'failed', errorCode: 'unconfirmed' });
      return;
    }
    const channel = channels[row.channel] ?? (row.provider ? channels[row.provider] : undefined);
    if (!channel) {
      await update({ status: 'failed', errorCode: 'no_channel' });
      logger.error({ outboxId: row.id, channel: row.channel }, 'no channel adapter for outbound message');
      return;
    }
    const attempts = row.attempts + 1;
    if (row.errorCode === IN_FLIGHT)
      logger.warn({ outboxId: row.id, attempts }, 'resending a message the provider never confirmed');
    if (!(await update({ status: 'sending', attempts, errorCode: IN_FLIGHT }))) return; // lease lost
    let result: Awaited<ReturnType<ChannelAdapter['send']>>;
    try {
      result = await channel.send({
        id: row.id,
        to: row.to,
        ...(row.from ? { from: row.from } : {}),
        text: row.text,
        channel: row.channel,
      });
    } catch (error) {
      result = { ok: false, errorCode: 'exception', message: String(error), retryable: true };
    }
    if (result.ok) {
      await update({ status: result.status, providerMessageId: result.providerMessageId, errorCode: '' });
      return;
    }
    if (result.optedOut) {
      await update({ status: 'failed', errorCode: result.errorCode });
      await options.onOptedOut(row);
      return;
    }
    if (result.retryable && attempts < maxAttempts) {
      const delay = Math.min(maxBackoff, baseBackoff * 2 ** (attempts - 1));
      await update({
        status: 'pending',
        errorCode: result.errorCode,
        nextAttemptAt: new Date(clock().getTime() + delay).toISOString(),
      });
      logger.warn(
        { outboxId: row.id, errorCode: result.errorCode, attempts, delay },
        'send failed; will retry',
      );
      return;
    }
    await update({ status: 'failed', errorCode: result.errorCode });
    logger.error({ outboxId: row.id, errorCode: result.errorCode, attempts }, 'send failed');
  }

  /** Extends the lease of every row still in hand; a row whose lease another dispatcher took is logged. */
  async function renew(ids: ReadonlySet<string>): Promise<void> {
    const now = clock();
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    await Promise.all(
      [...ids].map(async (id) => {
        try {
          const held = await storage.updateOutbox(
            id,
            { status: 'sending', leaseOwner: owner, leaseUntil },
            now.toISOString(),
          );
          // Finished meanwhile (no longer `sending`) is fine; still in hand but taken over is not.
          if (!held && ids.has(id)) {
            const row = await storage.getOutboxMessage(id);
            if (row?.status === 'sending' && row.leaseOwner !== owner)
              logger.warn({ outboxId: id }, 'lease lost to another dispatcher while sending');
          }
        } catch (error) {
          logger.warn({ err: String(error), outboxId: id }, 'lease renewal failed');
        }
      }),
    );
  }

  async function runOnce(): Promise<number> {
    let handled = 0;
    for (;;) {
      const rows = await storage.claimOutbox({
        owner,
        now: clock().toISOString(),
        leaseMs,
        limit: batchSize,
      });
      if (rows.length === 0) return handled;
      // The lease is renewed while rows are in hand (a pacer can hold a send for many seconds; a slow provider
      // or storage adds more), so only a dead dispatcher's rows are ever claimed again.
      const inHand = new Set(rows.map((row) => row.id));
      const heartbeat = setInterval(() => void renew(inHand), Math.max(50, Math.floor(leaseMs / 3)));
      heartbeat.unref?.();
      try {
        await Promise.all(
          rows.map((row) =>
            sendOne(row)
              .catch((error) => logger.error({ err: String(error), outboxId: row.id }, 'dispatch failed'))
              .finally(() => inHand.delete(row.id)),
          ),
        );
      } finally {
        clearInterval(heartbeat);
      }
      handled += rows.length;
      if (rows.length < batchSize) return handled;
    }
  }

  /** Runs a pass now, or right after the current one (coalescing kicks). Only once started. */
  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = runOnce()
      .catch((error) => {
        logger.error({ err: String(error) }, 'outbox pass failed');
        return 0;
      })
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          kick();
        }
      });
  }

  return {
    owner,
    runOnce,
    kick,
    start(intervalMs: number) {
      if (!stopped) return;
      stopped = false;
      const tick = () => {
        if (stopped) return;
        kick();
        timer = setTimeout(tick, intervalMs);
        timer.unref?.();
      };
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      while (running) await running;
    },
  };
}
