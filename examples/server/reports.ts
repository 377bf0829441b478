/**
 * Dashboard reports computed from storage: containment, escalation reasons, segments per day, delivery
 * failures, time to first agent response and drop-off per question. Reads at most `limit` recent
 * conversations; a production host would keep these as counters or in a warehouse.
 */
import type { StorageAdapter } from '../../src/adapters/storage/types.js';

/** The figures the reports page draws. */
export interface Reports {
  conversations: number;
  threads: number;
  /** Threads the bot finished without a person, 0..1 (null without threads). */
  containment: number | null;
  escalations: { [reason: string]: number };
  segmentsPerDay: { [day: string]: number };
  deliveryFailures: { [code: string]: number };
  /** Median seconds from escalation to the first agent reply (null when none). */
  medianFirstResponseSeconds: number | null;
  /** Threads whose last unanswered question was this one. */
  dropoff: { [question: string]: number };
}

/**
 * Computes {@link Reports} over the most recent conversations.
 *
 * @param storage - The engine's storage.
 * @param limit - Conversations to read. @default 500
 * @example
 * const r = await computeReports(host.storage); r.containment // 0.75
 */
export async function computeReports(storage: StorageAdapter, limit = 500): Promise<Reports> {
  const conversations = await storage.listConversations({ limit });
  const threads = new Set<string>();
  const escalatedThreads = new Set<string>();
  const escalations: Reports['escalations'] = {};
  const segmentsPerDay: Reports['segmentsPerDay'] = {};
  const deliveryFailures: Reports['deliveryFailures'] = {};
  const dropoff: Reports['dropoff'] = {};
  const firstResponses: number[] = [];

  for (const conversation of conversations) {
    const events = await storage.listEvents(conversation.key);
    // Per thread: the last question asked and whether an answer came after it.
    const lastQuestion = new Map<string, { question: string; answered: boolean }>();
    const escalatedAt = new Map<string, number>();
    for (const event of events) {
      threads.add(event.threadId);
      if (event.type === 'escalation') {
        const reason = String(event.data.reason ?? 'unknown');
        escalations[reason] = (escalations[reason] ?? 0) + 1;
        escalatedThreads.add(event.threadId);
        if (!escalatedAt.has(event.threadId)) escalatedAt.set(event.threadId, Date.parse(event.at));
      } else if (event.type === 'question') {
        lastQuestion.set(event.threadId, { question: String(event.data.question ?? '?'), answered: false });
      } else if (event.type === 'inbound') {
        const q = lastQuestion.get(event.threadId);
        if (q) q.answered = true;
      } else if (event.type === 'flow.done') {
        lastQuestion.delete(event.threadId);
      } else if (event.type === 'outbound' && event.data.kind === 'agent') {
        const at = escalatedAt.get(event.threadId);
        if (at !== undefined) {
          firstResponses.push((Date.parse(event.at) - at) / 1000);
          escalatedAt.delete(event.threadId);
        }
      }
    }
    for (const [threadId, q] of lastQuestion) {
      // A thread handed to a person did not drop off: it was escalated.
      if (!q.answered && !escalatedThreads.has(threadId))
        dropoff[q.question] = (dropoff[q.question] ?? 0) + 1;
    }
    for (const row of await storage.listOutbox(conversation.key)) {
      const day = row.createdAt.slice(0, 10);
      segmentsPerDay[day] = (segmentsPerDay[day] ?? 0) + row.segments;
      if (row.status === 'failed' || row.status === 'undelivered') {
        const code = row.errorCode ?? row.status;
        deliveryFailures[code] = (deliveryFailures[code] ?? 0) + 1;
      }
    }
  }
  firstResponses.sort((a, b) => a - b);
  const median = firstResponses.length
    ? (firstResponses[Math.floor((firstResponses.length - 1) / 2)] ?? null)
    : null;
  return {
    conversations: conversations.length,
    threads: threads.size,
    containment: threads.size ? (threads.size - escalatedThreads.size) / threads.size : null,
    escalations,
    segmentsPerDay,
    deliveryFailures,
    medianFirstResponseSeconds: median === null ? null : Math.round(median),
    dropoff,
  };
}
