import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { maskPhone, slackNotifier, slackText } from '../../../src/adapters/actions/slack.js';
import type { ActionContext } from '../../../src/adapters/actions/types.js';
import { isSmsflowError } from '../../../src/core/errors.js';
import { notifyContract } from '../../../src/testing/actions-contract.js';

// A fake Slack incoming webhook: answers "ok" like hooks.slack.com, or the documented error strings.
let answer: { status: number; body: string; delayMs?: number } = { status: 200, body: 'ok' };
let posts: { contentType: string | undefined; body: { text: string } }[] = [];
let server: Server;
let webhookUrl: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string },
      });
      setTimeout(() => res.writeHead(answer.status).end(answer.body), answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXXSECRETXXXX`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  answer = { status: 200, body: 'ok' };
  posts = [];
});

notifyContract({ name: 'slack', create: () => slackNotifier({ webhookUrl }) });

let n = 0;
const ctx = (): ActionContext => ({ effectId: `SM${n++}:e0`, contact: '+14155550100', threadId: 'th-1' });
const message = {
  text: 'A customer needs a person (billing_dispute): +14155550100 says <!channel> refund & cancel',
  kind: 'handoff.requested',
  contact: '+14155550100',
  data: { body: 'the full inbound text must never reach Slack' },
};

async function providerError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(isSmsflowError(error, 'SMSFLOW_ERR_PROVIDER'), String(error)).toBe(true);
  const text = (error as Error).message;
  expect(text).toMatch(/^\[smsflow\] \[slack\] /);
  expect(text).not.toContain('XXXXSECRETXXXX');
  return text;
}

describe('slackNotifier', () => {
  it('posts { text } with the number masked, mrkdwn escaped and no data', async () => {
    expect(await slackNotifier({ webhookUrl }).notify(message, ctx())).toEqual({ delivered: true });
    expect(posts).toHaveLength(1);
    expect(posts[0]?.contentType).toBe('application/json');
    expect(posts[0]?.body).toEqual({
      text: '*handoff.requested* · •••0100\nA customer needs a person (billing_dispute): •••0100 says &lt;!channel&gt; refund &amp; cancel',
    });
    expect(JSON.stringify(posts)).not.toContain('5550100');
    expect(JSON.stringify(posts)).not.toContain('full inbound text');
  });

  it('posts once per effect id (an engine retry does not post twice)', async () => {
    const notifier = slackNotifier({ webhookUrl });
    const context = ctx();
    await notifier.notify(message, context);
    expect(await notifier.notify(message, context)).toEqual({ delivered: true });
    expect(posts).toHaveLength(1);
  });

  it('a 2xx other than "ok" is not delivered', async () => {
    answer = { status: 200, body: 'queued' };
    expect(await slackNotifier({ webhookUrl }).notify(message, ctx())).toEqual({ delivered: false });
  });

  it("rejects Slack's refusals with the status and error string", async () => {
    answer = { status: 404, body: 'no_service' };
    expect(await providerError(slackNotifier({ webhookUrl }).notify(message, ctx()))).toContain(
      'HTTP 404 "no_service"',
    );
    answer = { status: 500, body: 'internal' };
    expect(await providerError(slackNotifier({ webhookUrl }).notify(message, ctx()))).toContain('HTTP 500');
  });

  it('times out, and reports a network failure without the URL', async () => {
    answer = { status: 200, body: 'ok', delayMs: 400 };
    expect(
      await providerError(slackNotifier({ webhookUrl, timeoutMs: 50 }).notify(message, ctx())),
    ).toContain('within 50 ms');
    const closed = 'http://127.0.0.1:9/services/T000/B000/XXXXSECRETXXXX';
    expect(await providerError(slackNotifier({ webhookUrl: closed }).notify(message, ctx()))).toContain(
      'Could not reach Slack',
    );
  });

  it('refuses a bad webhookUrl without quoting it', () => {
    let error: unknown;
    try {
      slackNotifier({ webhookUrl: 'hooks.slack.com/services/XXXXSECRETXXXX' });
    } catch (e) {
      error = e;
    }
    expect(isSmsflowError(error, 'SMSFLOW_ERR_INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toContain('[slack] Option webhookUrl');
    expect((error as Error).message).not.toContain('XXXXSECRETXXXX');
  });
});

describe('maskPhone and slackText', () => {
  it('keeps only the last 4 digits, in every form the number appears', () => {
    expect(maskPhone('+14155550100')).toBe('•••0100');
    expect(maskPhone('123')).toBe('•••');
    expect(
      slackText({ text: 'call 4155550100 or 14155550100', kind: 'notify.team', contact: '+14155550100' }),
    ).toBe('*notify.team* · •••0100\ncall •••0100 or •••0100');
  });
});
