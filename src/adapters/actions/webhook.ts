/**
 * Generic signed outgoing webhook for all four action kinds: every call POSTs one JSON document to the host's
 * URL, signed like Stripe's webhooks (`t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + rawBody)>`), and the
 * host's answer is validated with zod before it reaches a flow. Hosts verify with {@link verifyActionSignature}.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { formatIssues, SmsflowError, type SmsflowIssue } from '../../core/errors.js';
import type { Json } from '../../core/types.js';
import { type FetchLike, fetchWithTimeout, quote, safeEqual } from '../channels/shared.js';
import type { ActionContext, CalendarAdapter, CrmAdapter, NotifyAdapter, PaymentsAdapter } from './types.js';

const NAME = 'webhook';

/** Options of {@link webhookActions}. */
export interface WebhookActionsOptions {
  /** The host's receiver, e.g. `https://shop.example/smsflow/actions`. Every action kind posts here. */
  url: string;
  /** Shared secret for the HMAC signature; at least 16 characters (32 random bytes recommended). */
  secret: string;
  /**
   * Time budget of one call, connect to last byte.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * `fetch` implementation (tests, proxies).
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
  /**
   * Clock for the signature timestamp.
   * @default () => new Date()
   */
  now?: () => Date;
}

/** The `type` of each posted document, one per adapter method. */
export type ActionWebhookType =
  | 'calendar.check'
  | 'calendar.book'
  | 'calendar.reschedule'
  | 'calendar.cancel'
  | 'crm.upsertLead'
  | 'payments.createLink'
  | 'payments.cancel'
  | 'notify.send';

/** The JSON document POSTed to the host for every action call. */
export interface ActionWebhookBody {
  type: ActionWebhookType;
  /** Same as the `idempotency-key` header: dedupe on it. */
  effectId: string;
  contact: string;
  threadId: string;
  /** The adapter method's first argument, as given. */
  payload: { [name: string]: Json };
}

/** The four adapters {@link webhookActions} returns; pass them as the engine's `actions`. */
export interface WebhookActions {
  calendar: CalendarAdapter;
  crm: CrmAdapter;
  payments: PaymentsAdapter;
  notify: NotifyAdapter;
}

/** Header carrying the signature. */
export const ACTION_SIGNATURE_HEADER = 'smsflow-signature';

/**
 * Builds the `smsflow-signature` header value for a raw body at a unix time (seconds).
 *
 * @example
 * signActionBody('{"type":"calendar.check"}', 'whsec_0123456789abcdef', 1767225600)
 * // 't=1767225600,v1=<64 hex>'
 */
export function signActionBody(rawBody: string, secret: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${rawBody}`, 'utf8').digest('hex')}`;
}

/**
 * Checks a `smsflow-signature` header in a host's receiver: the timestamp must be within `toleranceSeconds`
 * of `now` (replays of old requests fail) and one `v1=` entry must equal HMAC-SHA256(secret, t + "." +
 * rawBody), compared in constant time. Pass the body exactly as received, before JSON parsing.
 *
 * @param rawBody - The request body as received (UTF-8 text).
 * @param header - The `smsflow-signature` header value (may be undefined when missing).
 * @param secret - The secret given to {@link webhookActions}.
 * @param now - The receiver's clock, a Date or epoch milliseconds.
 * @param toleranceSeconds - Allowed clock difference either way. @default 300
 * @returns true when the request is authentic and fresh; false otherwise (answer 401 and do nothing).
 * @example
 * if (!verifyActionSignature(raw, req.headers['smsflow-signature'], secret, new Date())) return res.status(401).end();
 */
export function verifyActionSignature(
  rawBody: string,
  header: string | undefined | null,
  secret: string,
  now: Date | number,
  toleranceSeconds = 300,
): boolean {
  if (typeof header !== 'string' || typeof rawBody !== 'string' || !secret) return false;
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2) as [string, string | undefined];
    if (key === 't' && value !== undefined && /^\d{1,12}$/.test(value)) t = Number(value);
    // Several v1 entries are allowed so a sender can sign with an old and a new secret while rotating.
    else if (key === 'v1' && value !== undefined) candidates.push(value.toLowerCase());
  }
  const nowMs = now instanceof Date ? now.getTime() : now;
  if (t === undefined || candidates.length === 0 || !Number.isFinite(nowMs)) return false;
  if (Math.abs(nowMs / 1000 - t) > toleranceSeconds) return false;
  const expected = signActionBody(rawBody, secret, t).slice(`t=${t},v1=`.length);
  let matched = false;
  // No early exit: every candidate is compared so timing does not reveal which one matched.
  for (const candidate of candidates) if (safeEqual(candidate, expected)) matched = true;
  return matched;
}

const bookingIdSchema = z.string().min(1).max(256);
const cancelledSchema = z.object({ cancelled: z.boolean() });
/** The answer the host must give per type; extra keys are dropped, so only these reach a flow. */
const responseSchemas: { [T in ActionWebhookType]: z.ZodType } = {
  'calendar.check': z.object({
    available: z.boolean(),
    alternatives: z
      .array(z.iso.datetime({ offset: true }))
      .max(10)
      .optional(),
  }),
  'calendar.book': z.object({ bookingId: bookingIdSchema }),
  'calendar.reschedule': z.object({ bookingId: bookingIdSchema }),
  'calendar.cancel': cancelledSchema,
  'crm.upsertLead': z.object({ leadId: z.string().min(1).max(256), owner: z.string().max(256).optional() }),
  'payments.createLink': z.object({
    paymentId: z.string().min(1).max(256),
    url: z.url({ protocol: /^https?$/ }).max(2048),
  }),
  'payments.cancel': cancelledSchema,
  'notify.send': z.object({ delivered: z.boolean() }),
};

function fail(message: string, options: { issues?: SmsflowIssue[]; cause?: unknown } = {}): SmsflowError {
  return new SmsflowError('SMSFLOW_ERR_PROVIDER', `[${NAME}] ${message}`, options);
}

function configError(message: string): SmsflowError {
  return new SmsflowError('SMSFLOW_ERR_INVALID_CONFIG', `[${NAME}] ${message}`);
}

/**
 * Action adapters that POST every call to one host URL. Each request carries the JSON
 * {@link ActionWebhookBody}, an `smsflow-signature` header and `idempotency-key: <effectId>`; the host
 * answers 2xx with the method's result as JSON (`notify.send` may answer with an empty body). Anything else
 * (non-2xx, timeout, network error, a body that is not JSON or not the expected shape) rejects with
 * `SMSFLOW_ERR_PROVIDER`; the engine then reports the effect as failed to the flow.
 *
 * @param options - See {@link WebhookActionsOptions}.
 * @returns `{ calendar, crm, payments, notify }`, each named `'webhook'`.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` for a bad url, secret or timeout.
 * @example
 * const actions = webhookActions({ url: 'https://shop.example/smsflow/actions', secret: process.env.ACTIONS_SECRET! });
 * const engine = createEngine({ bot, storage, channel, actions });
 */
export function webhookActions(options: WebhookActionsOptions): WebhookActions {
  const { timeoutMs = 5000, now = () => new Date() } = options;
  let target: URL;
  try {
    target = new URL(options.url);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new Error('protocol');
  } catch {
    throw configError(
      `Option url must be an http(s) URL, received ${quote(options.url)}. Pass your receiver's address, e.g. 'https://shop.example/smsflow/actions'.`,
    );
  }
  if (typeof options.secret !== 'string' || options.secret.length < 16) {
    // The secret itself is never quoted, only its length.
    throw configError(
      `Option secret must be a string of at least 16 characters (received ${typeof options.secret === 'string' ? `${options.secret.length} characters` : typeof options.secret}). Generate one with \`openssl rand -hex 32\`.`,
    );
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw configError(
      `Option timeoutMs must be a positive number of milliseconds, received ${quote(timeoutMs)}.`,
    );
  }
  const secret = options.secret;
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  // Errors name the origin only: a path or query may carry a token.
  const where = target.origin;

  async function call<T>(type: ActionWebhookType, payload: object, context: ActionContext): Promise<T> {
    if (context.signal?.aborted) throw fail(`${type} was aborted by the engine before it was sent.`);
    const body: ActionWebhookBody = {
      type,
      effectId: context.effectId,
      contact: context.contact,
      threadId: context.threadId,
      payload: payload as { [name: string]: Json },
    };
    const raw = JSON.stringify(body);
    // The engine's signal aborts the request too; fetchWithTimeout owns the timeout signal.
    const withSignal: FetchLike = (input, init) =>
      fetchImpl(input, {
        ...init,
        signal:
          context.signal && init?.signal ? AbortSignal.any([init.signal, context.signal]) : init?.signal,
      });
    const outcome = await fetchWithTimeout(
      withSignal,
      target.href,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'smsflow-actions',
          [ACTION_SIGNATURE_HEADER]: signActionBody(raw, secret, now().getTime() / 1000),
          'idempotency-key': context.effectId,
        },
        body: raw,
      },
      timeoutMs,
    );
    if (outcome.kind === 'network') {
      throw fail(
        context.signal?.aborted && !outcome.timedOut
          ? `${type}: aborted by the engine while waiting for ${where}; it may be retried with the same idempotency-key.`
          : outcome.timedOut
            ? `${type}: no answer from ${where} within ${timeoutMs} ms. Answer faster or raise timeoutMs; the call may be retried with the same idempotency-key.`
            : `${type}: could not reach ${where} (${outcome.message}). Check the url and that the receiver is running.`,
      );
    }
    if (outcome.status < 200 || outcome.status > 299) {
      throw fail(
        `${type}: ${where} answered HTTP ${outcome.status} ${quote(outcome.text)}. The receiver must answer 2xx with the result as JSON.`,
      );
    }
    if (type === 'notify.send' && outcome.text.trim() === '') return { delivered: true } as T;
    if (outcome.json === undefined) {
      throw fail(
        `${type}: ${where} answered HTTP ${outcome.status} with a body that is not JSON: ${quote(outcome.text)}. Answer with JSON such as ${example(type)}.`,
      );
    }
    const parsed = responseSchemas[type].safeParse(outcome.json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      throw fail(
        `${type}: ${where} answered with an unexpected shape ${quote(outcome.text)}; expected e.g. ${example(type)}:\n${formatIssues(issues)}`,
        { issues },
      );
    }
    return parsed.data as T;
  }

  return {
    calendar: {
      name: NAME,
      check: (request, context) => call('calendar.check', request, context),
      book: (request, context) => call('calendar.book', request, context),
      reschedule: (request, context) => call('calendar.reschedule', request, context),
      cancel: (request, context) => call('calendar.cancel', request, context),
    },
    crm: { name: NAME, upsertLead: (lead, context) => call('crm.upsertLead', lead, context) },
    payments: {
      name: NAME,
      createLink: (request, context) => call('payments.createLink', request, context),
      cancel: (request, context) => call('payments.cancel', request, context),
    },
    notify: { name: NAME, notify: (message, context) => call('notify.send', message, context) },
  };
}

function example(type: ActionWebhookType): string {
  const examples: { [T in ActionWebhookType]: string } = {
    'calendar.check': '{"available":false,"alternatives":["2026-12-03T14:30:00-08:00"]}',
    'calendar.book': '{"bookingId":"bk_123"}',
    'calendar.reschedule': '{"bookingId":"bk_123"}',
    'calendar.cancel': '{"cancelled":true}',
    'crm.upsertLead': '{"leadId":"lead_1","owner":"ana"}',
    'payments.createLink': '{"paymentId":"pay_1","url":"https://pay.example/pay_1"}',
    'payments.cancel': '{"cancelled":true}',
    'notify.send': '{"delivered":true}',
  };
  return examples[type];
}
