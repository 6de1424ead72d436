// The `fetch` the OpenAI clients use: undici's `request` on one keep-alive Agent instead of the WHATWG fetch. The
// client (retries off, errors, parsing, SSE) stays the official one; only the transport underneath is cheaper.
// Measured against the local fake upstream, a non-streaming completion costs ~0.5 ms less CPU this way: no fetch
// spec machinery, and a plain JSON answer is read as one buffer instead of through a web stream. SSE answers are
// still handed over as a stream, so tokens are relayed as they arrive.
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';

export interface UpstreamAgentOptions {
  /** How long an idle connection to a provider is kept open. */
  keepAliveMs?: number;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

function headerRecord(h: RequestInit['headers']): Record<string, string> | undefined {
  if (h === undefined || h === null) return undefined;
  const out: Record<string, string> = {};
  if (h instanceof Headers) h.forEach((v, k) => (out[k] = v));
  else if (Array.isArray(h)) for (const [k, v] of h) out[k!.toLowerCase()] = v!;
  else for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = String(v);
  return out;
}

function responseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) for (const one of v) h.append(k, one);
    else if (v !== undefined) h.append(k, v);
  }
  return h;
}

export interface UpstreamPost {
  /** POSTs `body` to `url` on the shared keep-alive Agent; the caller reads (or dumps) the response body. */
  (url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<Dispatcher.ResponseData>;
}

/**
 * A fetch-compatible function over one keep-alive undici Agent (anything it does not handle goes to global fetch),
 * and `post` on the same Agent for requests the executor forwards as they are (no client library in between).
 */
export function upstreamFetch(opts: UpstreamAgentOptions = {}): typeof fetch & { post: UpstreamPost; close(): Promise<void> } {
  const agent = new Agent({ keepAliveTimeout: opts.keepAliveMs ?? 30_000 });
  const post: UpstreamPost = (url, headers, body, signal) => request(url, { method: 'POST', headers, body, signal, dispatcher: agent });
  const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = init?.body;
    // The OpenAI client sends JSON strings; other shapes (forms, streams, Request objects) take the standard path.
    if (input instanceof Request || (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array))) {
      return fetch(input, init);
    }
    const res = await request(input, {
      method: (init?.method ?? 'GET') as 'GET',
      headers: headerRecord(init?.headers),
      body: body ?? undefined,
      signal: init?.signal ?? undefined,
      dispatcher: agent,
    });
    const headers = responseHeaders(res.headers);
    if (NULL_BODY_STATUS.has(res.statusCode)) {
      res.body.resume();
      return new Response(null, { status: res.statusCode, headers });
    }
    if ((headers.get('content-type') ?? '').includes('text/event-stream')) {
      return new Response(Readable.toWeb(res.body) as ReadableStream<Uint8Array>, { status: res.statusCode, headers });
    }
    return new Response(await res.body.arrayBuffer(), { status: res.statusCode, headers });
  };
  return Object.assign(impl as typeof fetch, { post, close: () => agent.close() });
}
