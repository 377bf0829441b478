/**
 * Adapts a web-standard handler to Node's `(req, res)` listener, so it mounts in `node:http`, Express and
 * Connect with no glue. The body streams to the handler (its byte budget applies while reading); a body an
 * Express raw/text parser already read (`req.body` as a Buffer or string) is used as is.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebhookHandler } from './webhook-handler.js';

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
  return (req, res) => {
    void serve(handler, req as NodeRequest, res);
  };
}

async function serve(handler: WebhookHandler, req: NodeRequest, res: ServerResponse): Promise<void> {
  let response: Response;
  try {
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'POST') {
      // Decided here: `new Request` refuses some methods (CONNECT, TRACE) and HEAD/GET cannot carry a body.
      response = jsonResponse(405, { error: 'method not allowed' }, { allow: 'GET, POST' });
    } else if (method === 'POST' && req.readableEnded && !isRawBody(req.body)) {
      // A JSON/form body parser ran first: the exact bytes the signature covers are gone.
      // 503, not 500: nothing was stored, and once the host is fixed the provider's redelivery gets through.
      response = jsonResponse(
        503,
        {
          error: 'body already consumed',
          message:
            'A body parser read this request before smsflow. Mount the webhook before express.json()/urlencoded(), or use express.raw({ type: "*/*" }).',
        },
        { 'retry-after': '60' },
      );
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
      const url = `http://localhost${(req.originalUrl ?? req.url ?? '/').replace(/^[^/]*/, '')}`;
      response = await handler(new Request(url, init));
    }
  } catch {
    // Only an unparseable URL or header can land here; the handlers themselves never throw.
    response = jsonResponse(400, { error: 'invalid request' });
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

function jsonResponse(status: number, body: object, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
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
