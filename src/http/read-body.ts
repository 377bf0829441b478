/**
 * Reads a webhook body with a byte budget: the stream is counted chunk by chunk and cancelled as soon as
 * the budget is spent, so a huge (or endless) body costs at most `maxBytes` of memory. `Content-Length` is
 * only a hint for an early refusal; a client can lie about it or omit it (chunked encoding). Two readers share
 * the rules: {@link readBody} for a web-standard `Request`, and {@link readNodeBody} for Node's request.
 */
import type { IncomingMessage } from 'node:http';
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
  refuseDeclared(request.headers.get('content-length'), maxBytes);
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
    throw unreadable(error);
  } finally {
    reader.releaseLock();
  }
  return decodeUtf8(Buffer.concat(chunks, total));
}

/**
 * Reads a Node request's body as UTF-8 text with the same budget and errors as {@link readBody}, without
 * building a web `Request` around it. A body an Express raw/text parser already read (`req.body` as a Buffer or
 * a non-empty string) is used as is. Over the budget, the rest of the body is discarded, not buffered, and
 * the socket stays open for the 413.
 *
 * @param req - The request; its stream is consumed unless `raw` is given.
 * @param maxBytes - Largest body accepted, in bytes.
 * @param raw - A body already read by a parser before smsflow.
 * @example
 * const body = await readNodeBody(req, 64 * 1024);
 */
export function readNodeBody(
  req: IncomingMessage,
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
  raw?: Buffer | string,
): Promise<string> {
  if (raw !== undefined) {
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    if (bytes.length > maxBytes) return Promise.reject(tooLarge(bytes.length, maxBytes));
    return Promise.resolve(decodeUtf8(bytes));
  }
  return new Promise<string>((resolve, reject) => {
    const declared = req.headers['content-length'];
    try {
      refuseDeclared(declared ?? null, maxBytes);
    } catch (error) {
      req.resume(); // discard: the socket must stay usable for the answer
      reject(error);
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (outcome: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        finish(() => reject(tooLarge(total, maxBytes, true)));
        req.resume(); // the rest is read and dropped, never buffered
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () =>
      finish(() => {
        try {
          resolve(decodeUtf8(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)));
        } catch (error) {
          reject(error);
        }
      });
    const onError = (error: unknown) => finish(() => reject(unreadable(error)));
    // A client that goes away mid-body closes the request without 'end'.
    const onClose = () => finish(() => reject(unreadable(new Error('connection closed'))));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    req.resume(); // flowing even if a middleware paused it
  });
}

/** Refuses before reading a byte when the client itself declares a body over the budget. */
function refuseDeclared(declared: string | null, maxBytes: number): void {
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    throw tooLarge(Number(declared), maxBytes);
  }
}

function unreadable(cause: unknown): SmsflowError {
  return new SmsflowError(
    'SMSFLOW_ERR_INVALID_WEBHOOK',
    'The request body could not be read (the client closed the connection or sent a broken stream). The provider will retry.',
    { cause },
  );
}

// fatal: a body with invalid UTF-8 is refused instead of silently turned into U+FFFD, which would change the
// bytes a signature was computed over.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `The request body (${bytes.byteLength} bytes) is not valid UTF-8. Providers send UTF-8; check that nothing between the provider and this server re-encodes the body.`,
    );
  }
}

function tooLarge(bytes: number, maxBytes: number, atLeast = false): SmsflowError {
  return new SmsflowError(
    'SMSFLOW_ERR_PAYLOAD_TOO_LARGE',
    `The request body is ${atLeast ? 'at least ' : ''}${bytes} bytes; the limit is ${maxBytes}. Raise maxBodyBytes in the handler options if this provider really sends bodies this large.`,
  );
}
