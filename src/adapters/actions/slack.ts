/**
 * Slack incoming-webhook notifier: posts `{ text }` to a channel when a lead is hot or a thread needs a
 * person. The contact's number is masked to its last 4 digits and `data` is never sent, so a Slack channel
 * holds no more personal data than the text the engine chose to write.
 */
import { SmsflowError } from '../../core/errors.js';
import { type FetchLike, fetchWithTimeout, quote } from '../channels/shared.js';
import type { NotifyAdapter } from './types.js';

const NAME = 'slack';
/** Effect ids already delivered, so an engine retry in this process does not post twice (Slack has no idempotency key). */
const REMEMBERED_IDS = 1000;

/** Options of {@link slackNotifier}. */
export interface SlackNotifierOptions {
  /**
   * The incoming-webhook URL (`https://hooks.slack.com/services/…`). It is a secret: keep it in an environment
   * variable; error messages never include it.
   */
  webhookUrl: string;
  /**
   * Time budget of one post, connect to last byte.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * `fetch` implementation (tests, proxies).
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
}

/**
 * Masks a phone number to its last 4 digits: `+14155550100` → `•••0100`.
 *
 * @example
 * maskPhone('+14155550100') // '•••0100'
 */
export function maskPhone(phone: string): string {
  const digits = String(phone).replace(/\D/g, '');
  return digits.length <= 4 ? '•••' : `•••${digits.slice(-4)}`;
}

/** Slack's mrkdwn treats `&`, `<`, `>` as control characters; escaping them keeps a text from pinging @channel. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The Slack message text for one notification: kind, masked contact, then the text with every occurrence of
 * the contact's number masked too (handoff summaries may quote it).
 *
 * @example
 * slackText({ text: 'Hot lead', kind: 'notify.team', contact: '+14155550100' })
 * // '*notify.team* · •••0100\nHot lead'
 */
export function slackText(message: { text: string; kind: string; contact: string }): string {
  const masked = maskPhone(message.contact);
  let text = String(message.text);
  const digits = String(message.contact).replace(/\D/g, '');
  if (digits.length > 4) {
    // Also catch the national form (4155550100) and the E.164 form with or without '+'.
    for (const form of [String(message.contact), digits, digits.slice(1)]) {
      if (form.length > 4) text = text.split(form).join(masked);
    }
  }
  return `*${escapeSlack(String(message.kind))}* · ${masked}\n${escapeSlack(text)}`;
}

/**
 * A {@link NotifyAdapter} posting to a Slack incoming webhook. Slack's `200 ok` answer means delivered; another
 * 2xx gives `delivered: false`; a refusal (`400 invalid_payload`, `403 invalid_token`, `404 no_service`,
 * `410 channel_is_archived`), a timeout or a network error rejects with `SMSFLOW_ERR_PROVIDER`.
 *
 * @param options - See {@link SlackNotifierOptions}.
 * @returns A notifier named `'slack'`.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` when `webhookUrl` is not an http(s) URL.
 * @example
 * const notify = slackNotifier({ webhookUrl: process.env.SLACK_WEBHOOK_URL! });
 * const engine = createEngine({ bot, storage, channel, actions: { notify } });
 */
export function slackNotifier(options: SlackNotifierOptions): NotifyAdapter {
  const { timeoutMs = 5000 } = options;
  let url: URL;
  try {
    url = new URL(options.webhookUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('protocol');
  } catch {
    // Only the type and length are quoted: a webhook URL is a credential.
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `[${NAME}] Option webhookUrl must be an http(s) URL (received a ${typeof options.webhookUrl} of length ${String(options.webhookUrl ?? '').length}). Copy it from your Slack app's Incoming Webhooks page.`,
    );
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `[${NAME}] Option timeoutMs must be a positive number of milliseconds, received ${quote(timeoutMs)}.`,
    );
  }
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const delivered = new Set<string>();
  const fail = (message: string) => new SmsflowError('SMSFLOW_ERR_PROVIDER', `[${NAME}] ${message}`);

  return {
    name: NAME,
    async notify(message, context) {
      if (delivered.has(context.effectId)) return { delivered: true };
      if (context.signal?.aborted)
        throw fail('The notification was aborted by the engine before it was sent.');
      const withSignal: FetchLike = (input, init) =>
        fetchImpl(input, {
          ...init,
          signal:
            context.signal && init?.signal ? AbortSignal.any([init.signal, context.signal]) : init?.signal,
        });
      const outcome = await fetchWithTimeout(
        withSignal,
        url.href,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: slackText(message) }),
        },
        timeoutMs,
      );
      if (outcome.kind === 'network') {
        throw fail(
          context.signal?.aborted && !outcome.timedOut
            ? 'The notification was aborted by the engine while waiting for Slack.'
            : outcome.timedOut
              ? `Slack did not answer within ${timeoutMs} ms. Raise timeoutMs or check the network.`
              : `Could not reach Slack (${outcome.message}). Check the network and the webhook URL.`,
        );
      }
      if (outcome.status < 200 || outcome.status > 299) {
        throw fail(
          `Slack refused the notification: HTTP ${outcome.status} ${quote(outcome.text)}. See https://api.slack.com/messaging/webhooks#handling_errors (a 403/404/410 means the webhook URL is revoked or the channel archived).`,
        );
      }
      const ok = outcome.text.trim() === 'ok';
      if (ok) {
        if (delivered.size >= REMEMBERED_IDS) delivered.delete(delivered.values().next().value as string);
        delivered.add(context.effectId);
      }
      return { delivered: ok };
    },
  };
}
