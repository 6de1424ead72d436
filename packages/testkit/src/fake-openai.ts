// A real OpenAI-compatible HTTP server (node:http) standing in for an LLM provider in tests, the benchmark and the
// demo. It answers from its input, so a test can tell which model served a request, and it can be told to fail.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeChatMessage {
  role: string;
  content: string;
}

export interface FakeOpenAIRequest {
  model: string;
  messages: FakeChatMessage[];
  stream: boolean;
}

export interface FakeOpenAIOptions {
  /** 0 or unset = a free port. */
  port?: number;
  host?: string;
  /** Models answered with `failWith` instead of a completion ("*" = every model). */
  failModels?: string[];
  /** HTTP status for failing models; default 500. */
  failWith?: number;
  /** Models whose streams break after the first chunk (the socket is destroyed mid-response). */
  breakModels?: string[];
  /** The assistant's answer; default `[<model>] <last user message>`. */
  reply?: (messages: FakeChatMessage[], model: string) => string;
  /** Delay before the first byte of each completion (time to first token). */
  latencyMs?: number;
  /** Keep every request in `requests`; default true. The benchmark turns it off. */
  record?: boolean;
  /** Models listed by GET /v1/models; default ["fake-small", "fake-large"]. */
  models?: string[];
}

export interface FakeOpenAI {
  /** Base URL ending in /v1, ready for the `openai` client's `baseURL`. */
  url: string;
  port: number;
  requests: FakeOpenAIRequest[];
  setFailing(models: string[]): void;
  setBreaking(models: string[]): void;
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

export function defaultFakeReply(messages: FakeChatMessage[], model: string): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  return `[${model}] ${lastUser?.content ?? ''}`.trimEnd();
}

/** Rough token estimate (≈4 characters per token), the same rule the executor uses when usage is absent. */
export function fakeTokenCount(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** Splits text into word-sized pieces that keep their spacing, so the pieces concatenate back to the text. */
function pieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let failing = new Set(opts.failModels ?? []);
  let breaking = new Set(opts.breakModels ?? []);
  const failWith = opts.failWith ?? 500;
  const reply = opts.reply ?? defaultFakeReply;
  const latencyMs = opts.latencyMs ?? 0;
  const record = opts.record ?? true;
  const listed = new Set(opts.models ?? ['fake-small', 'fake-large']);
  const requests: FakeOpenAIRequest[] = [];
  let seq = 0;

  const matches = (set: Set<string>, model: string) => set.has(model) || set.has('*');

  function sendJson(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function sendError(res: ServerResponse, status: number, message: string, type = 'invalid_request_error'): void {
    sendJson(res, status, { error: { message, type, param: null, code: null } });
  }

  function chat(body: Record<string, unknown>, res: ServerResponse): void {
    const model = typeof body.model === 'string' ? body.model : '';
    const rawMessages = Array.isArray(body.messages) ? body.messages : undefined;
    if (!model || !rawMessages) return sendError(res, 400, '`model` and `messages` are required');
    const messages: FakeChatMessage[] = rawMessages.map((m: { role?: unknown; content?: unknown }) => ({
      role: String(m?.role ?? ''),
      content: typeof m?.content === 'string' ? m.content : JSON.stringify(m?.content ?? ''),
    }));
    const stream = body.stream === true;
    if (record) requests.push({ model, messages, stream });
    listed.add(model);
    if (matches(failing, model)) {
      const type = failWith === 429 ? 'rate_limit_exceeded' : failWith >= 500 ? 'server_error' : 'invalid_request_error';
      return sendError(res, failWith, `fake upstream: ${model} is failing (${failWith})`, type);
    }

    let parts = pieces(reply(messages, model));
    const maxTokens = typeof body.max_tokens === 'number' && body.max_tokens > 0 ? body.max_tokens : undefined;
    const truncated = maxTokens !== undefined && parts.length > maxTokens;
    if (truncated) parts = parts.slice(0, maxTokens);
    const content = parts.join('');
    const usage = {
      prompt_tokens: messages.reduce((n, m) => n + fakeTokenCount(m.content) + 4, 0),
      completion_tokens: parts.length,
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const id = `chatcmpl-fake-${++seq}`;
    const created = Math.floor(Date.now() / 1000);
    const finishReason = truncated ? 'length' : 'stop';

    if (!stream) {
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finishReason }],
        usage,
      });
    }

    const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},`;
    const chunk = (choice: string) => `data: ${head}"choices":[${choice}]}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (matches(breaking, model)) {
      // Flush one real chunk, then cut the connection: the client sees a stream that dies mid-answer.
      res.write(chunk(`{"index":0,"delta":{"role":"assistant","content":${JSON.stringify(parts[0] ?? 'partial')}},"finish_reason":null}`));
      setTimeout(() => res.destroy(), 5);
      return;
    }
    // One write for the whole answer: valid SSE and much cheaper than a write per piece at thousands of req/s.
    let out = chunk('{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}');
    for (const p of parts) out += chunk(`{"index":0,"delta":{"content":${JSON.stringify(p)}},"finish_reason":null}`);
    out += chunk(`{"index":0,"delta":{},"finish_reason":"${finishReason}"}`);
    const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
    if (streamOptions?.include_usage === true) out += `data: ${head}"choices":[],"usage":${JSON.stringify(usage)}}\n\n`;
    out += 'data: [DONE]\n\n';
    res.end(out);
  }

  function embeddings(body: Record<string, unknown>, res: ServerResponse): void {
    const input = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input.map(String) : undefined;
    if (!input) return sendError(res, 400, '`input` must be a string or an array of strings');
    const dims = typeof body.dimensions === 'number' && body.dimensions > 0 ? Math.min(body.dimensions, 4096) : 64;
    const model = typeof body.model === 'string' ? body.model : 'fake-embedding';
    const data = input.map((text, index) => ({ object: 'embedding', index, embedding: hashedVector(text, dims) }));
    const tokens = input.reduce((n, t) => n + fakeTokenCount(t), 0);
    sendJson(res, 200, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  function route(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: [...listed].map((id) => ({ id, object: 'model', created: 0, owned_by: 'moma-testkit' })),
      });
    }
    if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/embeddings')) {
      return sendError(res, 404, `no route for ${req.method} ${path}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendError(res, 400, 'body is not valid JSON');
    }
    if (typeof body !== 'object' || body === null) return sendError(res, 400, 'body must be a JSON object');
    const handle = path === '/v1/embeddings' ? embeddings : chat;
    if (latencyMs > 0 && path === '/v1/chat/completions') setTimeout(() => handle(body as Record<string, unknown>, res), latencyMs);
    else handle(body as Record<string, unknown>, res);
  }

  const server = createServer((req, res) => {
    let raw = '';
    let size = 0;
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      size += c.length;
      if (size > MAX_BODY) {
        sendError(res, 413, 'body too large');
        req.destroy();
      } else raw += c;
    });
    req.on('end', () => {
      if (!res.headersSent) route(req, res, raw);
    });
  });
  // Longer than typical client pools keep idle sockets, so a pooled socket is never closed under a request.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';

  return {
    url: `http://${host}:${port}/v1`,
    port,
    requests,
    setFailing(models: string[]) {
      failing = new Set(models);
    },
    setBreaking(models: string[]) {
      breaking = new Set(models);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Deterministic bag-of-words embedding: each word hashed (FNV-1a) to a signed slot, then L2-normalised. */
export function hashedVector(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
    const slot = (h >>> 0) % dims;
    v[slot] = (v[slot] ?? 0) + ((h >>> 31) === 0 ? 1 : -1);
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}
