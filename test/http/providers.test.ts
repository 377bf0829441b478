/**
 * Every provider's recorded, signed webhook fixtures replayed through a real node:http server (toNodeListener)
 * with fetch: inbound and status fixtures reach the engine and get the channel's answer; forged ones get 403
 * and never reach the engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { birdChannel } from '../../src/adapters/channels/bird.js';
import { messagebirdChannel } from '../../src/adapters/channels/messagebird.js';
import { plivoChannel } from '../../src/adapters/channels/plivo.js';
import { twilioChannel } from '../../src/adapters/channels/twilio.js';
import type { ChannelAdapter } from '../../src/adapters/channels/types.js';
import { vonageChannel } from '../../src/adapters/channels/vonage.js';
import { vonageMessagesChannel } from '../../src/adapters/channels/vonage-messages.js';
import { createWebchatHub, webchatChannel } from '../../src/adapters/channels/webchat.js';
import { createInboundHandler, createStatusHandler } from '../../src/http/webhook-handler.js';
import { fakeEngine, readFixtures, readSecrets, recordingLogger, splitUrl, startServer } from './support.js';

type Secrets = Record<string, string>;
const providers: Record<string, () => ChannelAdapter> = {
  twilio: () => twilioChannel(readSecrets<{ authToken: string; accountSid: string }>('twilio')),
  plivo: () => plivoChannel(readSecrets<{ authId: string; authToken: string }>('plivo')),
  vonage: () =>
    vonageChannel({
      ...readSecrets<{ apiKey: string; apiSecret: string; signatureSecret: string }>('vonage'),
      signatureMethod: 'sha256',
      from: '+14155550199',
    }),
  'vonage-messages': () =>
    vonageMessagesChannel({
      ...readSecrets<{ signatureSecret: string; apiKey: string; apiSecret: string }>('vonage-messages'),
      from: '+14155550199',
    }),
  messagebird: () =>
    messagebirdChannel({
      ...readSecrets<{ signingKey: string; accessKey: string }>('messagebird'),
      originator: 'Salon',
    }),
  bird: () =>
    birdChannel(
      readSecrets<{
        signingKey: string;
        accessKey: string;
        workspaceId: string;
        channelId: string;
        number: string;
      }>('bird'),
    ),
  webchat: () =>
    webchatChannel({
      sessionSecret: readSecrets<Secrets>('webchat').sessionSecret!,
      hub: createWebchatHub(),
    }),
};

let server: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

for (const [provider, create] of Object.entries(providers)) {
  describe(`${provider} webhooks through node:http`, () => {
    for (const { file, fixture } of readFixtures(provider)) {
      it(`${fixture.kind} ${file}: ${fixture.description}`, async () => {
        const channel = create();
        const engine = fakeEngine();
        const { logger, text: logText } = recordingLogger();
        const { publicUrl, pathAndQuery } = splitUrl(fixture.request.url);
        const options = { engine, channel, publicUrl, logger, clock: () => new Date(fixture.now) };
        server.use(fixture.kind === 'status' ? createStatusHandler(options) : createInboundHandler(options));
        const { method, headers, body } = fixture.request;
        const response = await fetch(server.origin + pathAndQuery, {
          method,
          headers,
          ...(method === 'GET' ? {} : { body }),
        });
        const responseText = await response.text();

        if (fixture.kind === 'forged') {
          expect(response.status).toBe(403);
          expect(JSON.parse(responseText)).toEqual({ error: 'invalid signature' });
          expect(engine.inbound).toHaveLength(0);
          expect(logText()).toContain('invalid signature');
          return;
        }
        expect(response.status).toBe(200);
        if (fixture.kind === 'status') {
          expect(engine.statuses).toHaveLength(1);
          expect(engine.statuses[0]).toMatchObject(fixture.expect ?? {});
          return;
        }
        if (file === 'inbound-concat-part.json') {
          // Part 2 of 2 alone: buffered, acknowledged, not processed until part 1 arrives.
          expect(engine.inbound).toHaveLength(0);
          expect(responseText).toBe(channel.webhookResponse([]).body);
          return;
        }
        expect(engine.inbound).toHaveLength(1);
        expect(engine.inbound[0]!.message).toMatchObject(fixture.expect ?? {});
        const reply = engine.inbound[0]!.syncReply;
        expect(reply).toBe(channel.capabilities.syncReply);
        const expected = channel.webhookResponse(
          reply ? [`Got: ${engine.inbound[0]!.message.text.slice(0, 20)}`] : [],
          engine.inbound[0]!.message as never,
        );
        expect(response.headers.get('content-type')).toBe(expected.contentType);
        expect(responseText).toBe(expected.body);
        if (reply) expect(responseText).toContain('Got: ');
        // Never a body at info level or above.
        expect(logText()).not.toContain(engine.inbound[0]!.message.text || 'unused-marker');
      });
    }
  });
}
