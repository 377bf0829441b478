/**
 * Adapts a web-standard handler to Node's `(req, res)` listener, so it mounts in `node:http`, Express and
 * Connect with no glue. The body streams to the handler (its byte budget applies while reading); a body an
 * Express raw/text parser already read (`req.body` as a Buffer or string) is used as is. A handler made by
 * `createInboundHandler`/`createStatusHandler` is called through its core with Node's request as it is; any
 * other handler gets a web `Request`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readNodeBody } from './read-body.js';
import { toResponse, type WebhookAnswer } from './responses.js';
import { coreOf, type WebhookCore, type WebhookHandler } from './webhook-handler.js';
import { type IncomingWebhook, queryPart } from './webhook-request.js';

/** A Node request, possibly with what Express adds (`originalUrl`, a raw `body`). */
type NodeRequest = IncomingMessage & { originalUrl?: string; body?: unknown };

/**
 * Wraps `handler` as a Node listener. The URL host is a placeholder: handlers sign with `publicUrl` and take
 * only the query string from the request.
 *
 * @param handler - From {@link createInboundHandler} or {@link createStatusHandler}.
 * @returns `(req, res) => void`; never throws, always answers.
 * @example
 * http.createServer(toNodeListener(createInboundHandler({ engine, channel, publicUrl }))).listen(3000);
 * app.post('/sms', toNodeListener(inbound)); // Express: mount before express.json()/urlencoded()
 */
export function toNodeListener(handler: WebhookHandler): (req: IncomingMessage, res: ServerResponse) => void {
  const core = coreOf(handler);
  return (req, res) => {
    if (core) void serveCore(core, req as NodeRequest, res);
    else void serve(handler, req as NodeRequest, res);
  };
}

/** The answers decided before any handler runs, the same on both paths; `null` when the handler decides. */
function precheck(method: string, req: NodeRequest): WebhookAnswer | null {
  if (method !== 'GET' && method !== 'POST') {
    // Decided here: `new Request` refuses some methods (CONNECT, TRACE) and HEAD/GET cannot carry a body.
    return jsonAnswer(405, { error: 'method not allowed' }, { allow: 'GET, POST' });
  }
  if (method === 'POST' && req.readableEnded && !isRawBody(req.body)) {
    // A JSON/form body parser ran first: the exact bytes the signature covers are gone.
    // 503, not 500: nothing was stored, and once the host is fixed the provider's redelivery gets through.
    return jsonAnswer(
      503,
      {
        error: 'body already consumed',
        message:
          'A body parser read this request before smsflow. Mount the webhook before express.json()/urlencoded(), or use express.raw({ type: "*/*" }).',
      },
      { 'retry-after': '60' },
    );
  }
  return null;
}

/** The request target the provider called; Express keeps it in `originalUrl` when a router strips its mount path. */
const targetOf = (req: NodeRequest) => (req.originalUrl ?? req.url ?? '/').replace(/^[^/]*/, '');

async function serveCore(core: WebhookCore, req: NodeRequest, res: ServerResponse): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  let answer = precheck(method, req);
  try {
    answer ??= await core(incomingOf(method, req)); // the core itself never rejects
  } catch {
    // Only a request Node let through but this code cannot read lands here, as on the Request path.
    answer = jsonAnswer(400, { error: 'invalid request' });
  }
  write(answer, res);
}

/** The handlers' view of Node's request, read as it is. */
function incomingOf(method: string, req: NodeRequest): IncomingWebhook {
  const headers: Record<string, string> = Object.create(null);
  // Node lower-cases names and joins most repeated headers already; arrays (set-cookie) are joined here.
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const raw = isRawBody(req.body) ? req.body : undefined;
  return {
    method,
    query: queryPart(targetOf(req)),
    headers,
    readBody: (maxBytes) => readNodeBody(req, maxBytes, raw),
  };
}

async function serve(handler: WebhookHandler, req: NodeRequest, res: ServerResponse): Promise<void> {
  let response: Response;
  try {
    const method = (req.method ?? 'GET').toUpperCase();
    const early = precheck(method, req);
    if (early) {
      response = toResponse(early);
    } else {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else if (value !== undefined) headers.set(name, value);
      }
      const init: RequestInit & { duplex?: 'half' } = { method, headers };
      if (method === 'POST') {
        init.body = isRawBody(req.body) ? Buffer.from(req.body) : bodyStream(req);
        init.duplex = 'half';
      }
      response = await handler(new Request(`http://localhost${targetOf(req)}`, init));
    }
  } catch {
    // Only an unparseable URL or header can land here; the handlers themselves never throw.
    response = toResponse(jsonAnswer(400, { error: 'invalid request' }));
  }
  await send(response, res);
}

function isRawBody(body: unknown): body is Buffer | string {
  return Buffer.isBuffer(body) || (typeof body === 'string' && body.length > 0);
}

/** A pull-based stream over the request, so a refused body stops being buffered; cancel drains the rest. */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.pause();
      req.on('data', (chunk: Buffer) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on('end', () => {
        if (open) controller.close();
        open = false;
      });
      req.on('error', (error) => {
        if (open) controller.error(error);
        open = false;
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      // Discard (not destroy): destroying the socket would lose the 413 we are about to send. Node closes a
      // connection whose request body is not fully read once the response is sent.
      open = false;
      req.resume();
    },
  });
}

function jsonAnswer(status: number, body: object, headers: Record<string, string> = {}): WebhookAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * Writes an answer as it is: no web `Response` in between. The body goes to `end` as a string, so Node sends the
 * head and the body as one chunk. The headers go as a flat `[name, value, …]` list: copying the answer's object
 * and adding `content-length` to the copy made V8 build a new hidden class on every response.
 */
function write(answer: WebhookAnswer, res: ServerResponse): void {
  const body = answer.body ?? '';
  const head: string[] = [];
  for (const name in answer.headers) {
    if (name !== 'content-length') head.push(name, answer.headers[name]!);
  }
  if (answer.status !== 204 && answer.status !== 304)
    head.push('content-length', String(Buffer.byteLength(body)));
  try {
    res.writeHead(answer.status, head);
    res.end(body, 'utf8');
  } catch {
    // The client went away mid-response: nothing left to tell it.
    res.destroy();
  }
}

async function send(response: Response, res: ServerResponse): Promise<void> {
  try {
    const body = Buffer.from(await response.arrayBuffer());
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (response.status !== 204 && response.status !== 304) headers['content-length'] = String(body.length);
    res.writeHead(response.status, headers);
    res.end(body);
  } catch {
    // The client went away mid-response: nothing left to tell it.
    if (!res.headersSent) res.writeHead(503).end();
    else res.destroy();
  }
}
