/** readBody: the byte budget (declared and actual), UTF-8 decoding, and a broken stream. */
import { describe, expect, it } from 'vitest';
import { isSmsflowError } from '../../src/core/errors.js';
import { readBody } from '../../src/http/read-body.js';

function streamOf(chunks: Uint8Array[], fail = false): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else if (fail) controller.error(new Error('socket hang up'));
      else controller.close();
    },
  });
}
const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request('http://x/', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

describe('readBody', () => {
  it('reads exactly maxBytes; one byte more is SMSFLOW_ERR_PAYLOAD_TOO_LARGE', async () => {
    expect(await readBody(post('a'.repeat(100)), 100)).toHaveLength(100);
    await expect(readBody(post('a'.repeat(101)), 100)).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_PAYLOAD_TOO_LARGE',
    });
  });

  it('counts bytes, not characters (emoji are 4 bytes)', async () => {
    expect(await readBody(post('😀'.repeat(25)), 100)).toBe('😀'.repeat(25));
    await expect(readBody(post('😀'.repeat(26)), 100)).rejects.toSatisfy((e) =>
      isSmsflowError(e, 'SMSFLOW_ERR_PAYLOAD_TOO_LARGE'),
    );
  });

  it('refuses a declared Content-Length over the limit before reading', async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(10));
      },
    });
    await expect(readBody(post(stream, { 'content-length': '1000000' }), 100)).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_PAYLOAD_TOO_LARGE',
    });
    expect(pulled).toBeLessThanOrEqual(1); // at most the stream's own start-up pull
  });

  it('does not trust a small Content-Length: the stream is still counted', async () => {
    const big = streamOf([new Uint8Array(60), new Uint8Array(60)]);
    await expect(readBody(post(big, { 'content-length': '10' }), 100)).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_PAYLOAD_TOO_LARGE',
    });
  });

  it('keeps NUL and RTL text; refuses invalid UTF-8 with SMSFLOW_ERR_INVALID_WEBHOOK', async () => {
    expect(await readBody(post('a\u0000b שלום'))).toBe('a\u0000b שלום');
    await expect(readBody(post(new Uint8Array([0x61, 0xc3, 0x28])))).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_INVALID_WEBHOOK',
      message: expect.stringContaining('not valid UTF-8'),
    });
  });

  it('a stream that fails midway is SMSFLOW_ERR_INVALID_WEBHOOK; no body is an empty string', async () => {
    await expect(readBody(post(streamOf([new Uint8Array(5)], true)))).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_INVALID_WEBHOOK',
    });
    expect(await readBody(new Request('http://x/'))).toBe('');
  });
});
