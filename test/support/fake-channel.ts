import type { ChannelAdapter, SendRequest, SendResult } from '../../src/adapters/channels/types.js';

/** A channel that records sends; `next` queues scripted results (default: accepted). */
export function fakeChannel(name = 'fake') {
  const sent: SendRequest[] = [];
  const next: SendResult[] = [];
  let counter = 0;
  const adapter: ChannelAdapter & { sent: SendRequest[]; next: SendResult[] } = {
    name,
    sent,
    next,
    capabilities: { syncReply: false },
    verify: () => ({ ok: true }),
    parseInbound: () => ({ kind: 'ignored', reason: 'fake' }),
    parseStatus: () => ({ providerMessageId: '', status: 'sent', providerStatus: 'sent' }),
    webhookResponse: () => ({ status: 200, contentType: 'text/plain', body: '' }),
    async send(request) {
      sent.push(request);
      return next.shift() ?? { ok: true, providerMessageId: `P${++counter}`, status: 'queued' };
    },
  };
  return adapter;
}
