/**
 * Reads a webhook body with a byte budget: the stream is counted chunk by chunk and cancelled as soon as
 * the budget is spent, so a huge (or endless) body costs at most `maxBytes` of memory. `Content-Length` is
 * only a hint for an early refusal; a client can lie about it or omit it (chunked encoding).
 */
import { SmsflowError } from '../core/errors.js';

/** Default largest webhook body: 64 KiB. Provider webhooks are a few KiB; a 10,000-char text is ≤ 40 KiB. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads `request`'s body as UTF-8 text, refusing more than `maxBytes` bytes.
 *
 * @param request - A web-standard request (its body stream is consumed).
 * @param maxBytes - Largest body accepted, in bytes.
 * @returns The body text (`''` when there is none).
 * @throws SmsflowError `SMSFLOW_ERR_PAYLOAD_TOO_LARGE` over the limit; `SMSFLOW_ERR_INVALID_WEBHOOK` when the
 *   bytes are not valid UTF-8 or the stream fails (client went away).
 * @example
 * const body = await readBody(request, 64 * 1024);
 */
export async function readBody(request: Request, maxBytes: number = DEFAULT_MAX_BODY_BYTES): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    // Refuse before reading a byte: the client said it is too big, and it may well be telling the truth.
    throw tooLarge(Number(declared), maxBytes);
  }
  const stream = request.body;
  if (!stream) return '';
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        // Stop pulling now: the rest of the body is never buffered.
        await reader.cancel().catch(() => undefined);
        throw tooLarge(total, maxBytes, true);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof SmsflowError) throw error;
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      'The request body could not be read (the client closed the connection or sent a broken stream). The provider will retry.',
      { cause: error },
    );
  } finally {
    reader.releaseLock();
  }
  const bytes = Buffer.concat(chunks, total);
  try {
    // fatal: a body with invalid UTF-8 is refused instead of silently turned into U+FFFD, which would change
    // the bytes a signature was computed over.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `The request body (${total} bytes) is not valid UTF-8. Providers send UTF-8; check that nothing between the provider and this server re-encodes the body.`,
    );
  }
}

function tooLarge(bytes: number, maxBytes: number, atLeast = false): SmsflowError {
  return new SmsflowError(
    'SMSFLOW_ERR_PAYLOAD_TOO_LARGE',
    `The request body is ${atLeast ? 'at least ' : ''}${bytes} bytes; the limit is ${maxBytes}. Raise maxBodyBytes in the handler options if this provider really sends bodies this large.`,
  );
}
