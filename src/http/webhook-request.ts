/**
 * Turns a request into the {@link WebhookRequest} adapters verify and parse: the URL is the
 * configured public URL plus the actual query string (never the `Host` header, which a client controls and a
 * proxy rewrites), header names lower-cased, and the body's content type checked against the provider's.
 */
import type { WebhookRequest } from '../adapters/channels/types.js';
import { SmsflowError } from '../core/errors.js';
import { readBody } from './read-body.js';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/**
 * Content types each provider sends webhook bodies in (sms-facts.md §1; the fixtures in `test/fixtures/`).
 * Unknown (host-written) adapters accept form and JSON.
 */
export const providerContentTypes: Readonly<Record<string, readonly string[]>> = {
  twilio: [FORM],
  plivo: [FORM],
  vonage: [FORM, JSON_TYPE],
  'vonage-messages': [JSON_TYPE],
  messagebird: [JSON_TYPE, FORM],
  bird: [JSON_TYPE],
  webchat: [JSON_TYPE],
};

/**
 * Checks an absolute http(s) URL and returns it without query and fragment.
 *
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` quoting the value.
 * @example
 * basePublicUrl('https://bot.example.com/sms?x=1') // 'https://bot.example.com/sms'
 */
export function basePublicUrl(publicUrl: string): string {
  let url: URL | undefined;
  try {
    url = new URL(publicUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `publicUrl must be the absolute http(s) URL the provider calls, as set in its console (received ${JSON.stringify(publicUrl)}). Example: 'https://bot.example.com/webhooks/twilio'.`,
    );
  }
  // Keep the string as configured (URL() would normalise it, and signatures cover the exact URL).
  return publicUrl.split('#', 1)[0]!.split('?', 1)[0]!;
}

/**
 * A request as the handlers see it, whatever server it came from: a web-standard `Request`
 * ({@link fromRequest}) or Node's own request, read without building a `Request` (`toNodeListener`).
 */
export interface IncomingWebhook {
  /** Upper-case. */
  method: string;
  /** The query string with its `?`, without a fragment; `''` when there is none. */
  query: string;
  /** Lower-case names; a repeated header's values joined with `', '`. */
  headers: Record<string, string>;
  /** Reads the body as UTF-8 within `maxBytes` (the rules of {@link readBody}). */
  readBody(maxBytes: number): Promise<string>;
}

/**
 * The handlers' view of a web-standard request.
 *
 * @example
 * fromRequest(new Request('http://x/sms?a=1')).query // '?a=1'
 */
export function fromRequest(request: Request): IncomingWebhook {
  const headers: Record<string, string> = Object.create(null);
  // Headers iterates lower-cased names, repeated headers joined with ', '.
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return {
    method: String(request.method).toUpperCase(),
    query: queryPart(request.url),
    headers,
    readBody: (maxBytes) => readBody(request, maxBytes),
  };
}

/**
 * The query string of a request target or URL, with its `?` and without a fragment (`''` when empty).
 *
 * @example
 * queryPart('/sms?a=1#x') // '?a=1'
 */
export function queryPart(target: string): string {
  const at = target.indexOf('?');
  if (at === -1) return '';
  const query = target.slice(at).split('#', 1)[0]!;
  return query === '?' ? '' : query;
}

/**
 * Builds the adapter's view of a request: the configured public URL plus the request's query string.
 *
 * @param incoming - The request ({@link fromRequest}); only its query string is used of its URL.
 * @param base - The public URL without query ({@link basePublicUrl}).
 * @param body - The body read with `incoming.readBody`.
 * @example
 * toWebhookRequest(fromRequest(request), 'https://bot.example.com/sms', body).url // 'https://bot.example.com/sms?a=1'
 */
export function toWebhookRequest(incoming: IncomingWebhook, base: string, body: string): WebhookRequest {
  return { method: incoming.method, url: base + incoming.query, headers: incoming.headers, body };
}

/**
 * Checks the request's content type against the provider's; an empty body needs none (GET, query-only POST).
 *
 * @returns `null` when acceptable, else why not (sent back with 415).
 * @example
 * contentTypeProblem('text/xml', 'x', ['application/json']) // 'Unsupported content type "text/xml"; …'
 */
export function contentTypeProblem(
  contentType: string | null,
  body: string,
  accepted: readonly string[],
): string | null {
  if (body.length === 0) return null;
  const [mediaType = '', ...params] = (contentType ?? '').split(';').map((p) => p.trim());
  const type = mediaType.toLowerCase();
  if (!accepted.includes(type)) {
    return `Unsupported content type ${JSON.stringify(contentType ?? '(none)')}; this provider's webhooks are ${accepted.join(' or ')}. Check the webhook's content type in the provider console and that no proxy rewrites it.`;
  }
  const charset = params
    .map((p) => /^charset\s*=\s*"?([^";]+)"?$/i.exec(p)?.[1]?.toLowerCase())
    .find((c) => c !== undefined);
  // Adapters read the body as UTF-8; ASCII is a subset. Anything else would be misread, not just mis-signed.
  if (charset && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) {
    return `Unsupported charset ${JSON.stringify(charset)}; webhooks must be UTF-8.`;
  }
  return null;
}
