// A real OpenAI-compatible HTTP server (node:http) standing in for an LLM provider in tests, the benchmark and the
// demo. It answers from its input, so a test can tell which model served a request; it honours the Chat Completions
// fields that shape an answer (n, max_tokens, stop, tools, response_format, logprobs, stream_options), records every
// request exactly as received, and can be told to fail or to hang.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeChatMessage {
  role: string;
  /** The message text: a string as is, the text parts of an array joined by a space, '' when absent. */
  content: string;
}

export interface FakeOpenAIRequest {
  model: string;
  messages: FakeChatMessage[];
  stream: boolean;
  /** The parsed JSON body exactly as received, every field. */
  body: Record<string, unknown>;
  /** The request headers (Node lowercases the names). */
  headers: IncomingHttpHeaders;
}

export interface FakeFailOptions {
  /** HTTP status; default the constructor's `failWith` (500). */
  status?: number;
  /** Sends `retry-after: <seconds>`. */
  retryAfterSeconds?: number;
  /** The response body; default an OpenAI-shaped `{ error: { message, type, param, code } }`. */
  body?: unknown;
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
  /** The assistant's text for choice `index`; default {@link defaultFakeReply}. */
  reply?: (messages: FakeChatMessage[], model: string, index: number) => string;
  /** Delay before the first byte of each completion (time to first token); with `headersFirst`, before the body. */
  latencyMs?: number;
  /**
   * Send a completion's 200 headers as soon as its request arrives and the answer after `latencyMs`, as providers do
   * whose first byte comes long before a slow answer; default false (headers and body together, after the latency).
   * Failing and hanging models (at arrival) are unaffected.
   */
  headersFirst?: boolean;
  /** Keep every request in `requests`; default true. The benchmark turns it off (`calls()` still counts). */
  record?: boolean;
  /** Models listed by GET /v1/models; default ["fake-small", "fake-large"]. */
  models?: string[];
}

export interface FakeOpenAI {
  /** Base URL ending in /v1, ready for the `openai` client's `baseURL`. */
  url: string;
  port: number;
  requests: FakeOpenAIRequest[];
  /** Models ("*" = all) answered with an error instead of a completion; checked before hanging. */
  setFailing(models: string[], opts?: FakeFailOptions): void;
  setBreaking(models: string[]): void;
  /** Models ("*" = all) whose requests are accepted and never answered (until close()). */
  setHanging(models: string[]): void;
  /** How many chat completion requests named `model` (every model when omitted), recorded or not. */
  calls(model?: string): number;
  /** How many chat completion requests the client closed before the fake had sent the whole answer (hanging ones too). */
  aborted(model?: string): number;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const MAX_BODY = 4 * 1024 * 1024;
/** Prompt tokens charged per image part (OpenAI's low-detail price). */
const IMAGE_TOKENS = 85;

/** `[<model>] <last user message>`; `[<model>#<index>] …` for choices after the first; after a tool result, `tool said: …`. */
export function defaultFakeReply(messages: FakeChatMessage[], model: string, index = 0): string {
  const label = index > 0 ? `${model}#${index}` : model;
  const last = messages.at(-1);
  if (last?.role === 'tool') return `[${label}] tool said: ${last.content}`;
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  return `[${label}] ${lastUser?.content ?? ''}`.trimEnd();
}

/** Rough token estimate (≈4 characters per token), the same rule the executor uses when usage is absent. */
export function fakeTokenCount(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** Splits text into word-sized pieces that keep their spacing, so the pieces concatenate back to the text. */
function pieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function partsOf(content: unknown): Json[] {
  return Array.isArray(content) ? content.filter(isObject) : [];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return partsOf(content).filter((p) => p.type === 'text' && typeof p.text === 'string').map((p) => p.text).join(' ');
  return content == null ? '' : JSON.stringify(content);
}

/** A JSON answer: the schema's top-level properties filled in (strings get the text), else `{"answer": text}`. */
function jsonAnswer(text: string, format: Json): string {
  const fill = (schema: unknown, depth: number): unknown => {
    const s = isObject(schema) ? schema : {};
    const type = Array.isArray(s.type) ? s.type[0] : s.type;
    if (type === 'number' || type === 'integer') return 0;
    if (type === 'boolean') return true;
    if (type === 'null') return null;
    if (type === 'array') return [];
    if (type === 'object' || isObject(s.properties)) {
      if (!isObject(s.properties) || depth > 8) return {};
      return Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, fill(v, depth + 1)]));
    }
    return text;
  };
  const schema = isObject(format.json_schema) ? format.json_schema.schema : undefined;
  const filled = isObject(schema) && isObject(schema.properties) ? fill(schema, 0) : { answer: text };
  return JSON.stringify(filled);
}

/** Cuts text before the earliest stop sequence it contains. */
function cutAtStop(text: string, stop: unknown): { text: string; stopped: boolean } {
  const seqs = (Array.isArray(stop) ? stop : [stop]).filter((s): s is string => typeof s === 'string' && s.length > 0);
  let at = -1;
  for (const s of seqs) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at < 0 ? { text, stopped: false } : { text: text.slice(0, at), stopped: true };
}

function logprobEntry(token: string, top: number) {
  const bytes = [...Buffer.from(token, 'utf8')];
  const alt = (j: number) => (j === 0 ? token : `${token.trim()}~${j}`);
  const tops = Array.from({ length: top }, (_, j) => ({ token: alt(j), logprob: -0.01 - j, bytes: [...Buffer.from(alt(j), 'utf8')] }));
  return { token, logprob: -0.01, bytes, top_logprobs: tops };
}

interface Planned {
  /** Text pieces, or tool-call argument pieces when `tool` is set; one piece = one completion token. */
  parts: string[];
  tool?: { id: string; name: string };
  finish: 'stop' | 'length' | 'tool_calls';
}

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const failWith = opts.failWith ?? 500;
  let failing: { models: Set<string> } & FakeFailOptions = { models: new Set(opts.failModels ?? []) };
  let breaking = new Set(opts.breakModels ?? []);
  let hanging = new Set<string>();
  const reply = opts.reply ?? defaultFakeReply;
  const latencyMs = opts.latencyMs ?? 0;
  const record = opts.record ?? true;
  const listed = new Set(opts.models ?? ['fake-small', 'fake-large']);
  const requests: FakeOpenAIRequest[] = [];
  const callCounts = new Map<string, number>();
  const abortCounts = new Map<string, number>();
  /** Streams the fake cut itself (breakModels): not the client's doing. */
  const broken = new WeakSet<ServerResponse>();
  const headersFirst = opts.headersFirst ?? false;
  let seq = 0;

  const matches = (set: Set<string>, model: string) => set.has(model) || set.has('*');

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    if (res.headersSent) return void res.end(text); // headersFirst: the 200 went out on arrival
    res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function errorBody(message: string, type: string, code: string | null = null) {
    return { error: { message, type, param: null, code } };
  }

  function sendError(res: ServerResponse, status: number, message: string, headers?: Record<string, string>): void {
    sendJson(res, status, errorBody(message, 'invalid_request_error'), headers);
  }

  /** Validates and records a chat request, then answers it (after `latencyMs`) unless it fails or hangs. */
  function chat(req: IncomingMessage, res: ServerResponse, body: Json): void {
    const n = ++seq;
    const headers = { 'x-request-id': `req_${n}`, 'x-ratelimit-remaining-requests': '999' };
    const model = typeof body.model === 'string' ? body.model : '';
    const raw = body.messages;
    if (!model) return sendError(res, 400, 'you must provide a model parameter', headers);
    if (!Array.isArray(raw)) return sendError(res, 400, "missing required parameter: 'messages'", headers);
    if (raw.length === 0) return sendError(res, 400, "invalid 'messages': empty array, expected at least one message", headers);
    const choices = body.n == null ? 1 : body.n;
    if (typeof choices !== 'number' || !Number.isInteger(choices) || choices < 1 || choices > 128) {
      return sendError(res, 400, "invalid 'n': expected an integer from 1 to 128", headers);
    }
    const messages: FakeChatMessage[] = raw.map((m: unknown) => ({
      role: String(isObject(m) ? (m.role ?? '') : ''),
      content: textOf(isObject(m) ? m.content : undefined),
    }));
    const stream = body.stream === true;
    if (record) requests.push({ model, messages, stream, body, headers: { ...req.headers } });
    callCounts.set(model, (callCounts.get(model) ?? 0) + 1);
    listed.add(model);
    res.on('close', () => {
      if (!res.writableEnded && !broken.has(res)) abortCounts.set(model, (abortCounts.get(model) ?? 0) + 1);
    });
    if (headersFirst && !matches(failing.models, model) && !matches(hanging, model)) {
      res.writeHead(200, { ...headers, 'content-type': stream ? 'text/event-stream' : 'application/json', ...(stream ? { 'cache-control': 'no-cache' } : {}) });
      res.flushHeaders();
    }
    const go = () => {
      if (res.destroyed) return;
      if (!res.headersSent && matches(failing.models, model)) return fail(res, model, headers);
      if (!res.headersSent && matches(hanging, model)) return; // accepted, never answered: close() destroys the socket
      answer(res, body, model, messages, choices, stream, n, headers);
    };
    if (latencyMs > 0) setTimeout(go, latencyMs);
    else go();
  }

  function fail(res: ServerResponse, model: string, headers: Record<string, string>): void {
    const status = failing.status ?? failWith;
    const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
    const body = failing.body ?? errorBody(`fake upstream: ${model} is failing (${status})`, type, status === 429 ? 'rate_limit_exceeded' : null);
    const extra = failing.retryAfterSeconds === undefined ? headers : { ...headers, 'retry-after': String(failing.retryAfterSeconds) };
    sendJson(res, status, body, extra);
  }

  /** What choice `index` says: a tool call or text, cut by stop sequences and the token limit. */
  function plan(body: Json, model: string, messages: FakeChatMessage[], index: number, n: number): Planned {
    const tools = Array.isArray(body.tools) ? body.tools.filter(isObject) : [];
    if (tools.length > 0 && body.tool_choice !== 'none' && messages.at(-1)?.role !== 'tool') {
      const chosen = isObject(body.tool_choice) && isObject(body.tool_choice.function) ? body.tool_choice.function.name : undefined;
      const first = tools[0] ?? {};
      const fn = isObject(first.function) ? first.function : isObject(first.custom) ? first.custom : {};
      const name = typeof chosen === 'string' ? chosen : typeof fn.name === 'string' ? fn.name : 'tool';
      const q = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
      const args = JSON.stringify({ q });
      return { parts: args.match(/[\s\S]{1,8}/g) ?? [], tool: { id: index === 0 ? `call_${n}` : `call_${n}_${index}`, name }, finish: 'tool_calls' };
    }
    let text = reply(messages, model, index);
    const format = isObject(body.response_format) ? body.response_format : undefined;
    if (format && (format.type === 'json_object' || format.type === 'json_schema')) {
      let isJson = false;
      try {
        isJson = isObject(JSON.parse(text));
      } catch {}
      if (!isJson) text = jsonAnswer(text, format);
    }
    const cut = cutAtStop(text, body.stop);
    let parts = pieces(cut.text);
    const limit = [body.max_completion_tokens, body.max_tokens].find((v): v is number => typeof v === 'number' && v > 0);
    const truncated = limit !== undefined && parts.length > limit;
    if (truncated) parts = parts.slice(0, limit);
    return { parts, finish: truncated ? 'length' : 'stop' };
  }

  function answer(res: ServerResponse, body: Json, model: string, messages: FakeChatMessage[], n: number, stream: boolean, id: number, headers: Record<string, string>): void {
    const planned = Array.from({ length: n }, (_, i) => plan(body, model, messages, i, id));
    const images = (body.messages as unknown[]).reduce<number>((k, m) => k + partsOf(isObject(m) ? m.content : undefined).filter((p) => p.type === 'image_url').length, 0);
    const prompt = messages.reduce((k, m) => k + fakeTokenCount(m.content) + 4, 0) + images * IMAGE_TOKENS;
    const completion = planned.reduce((k, p) => k + p.parts.length, 0);
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    const top = typeof body.top_logprobs === 'number' && body.top_logprobs > 0 ? Math.min(body.top_logprobs, 20) : 0;
    const logprobs = body.logprobs === true;
    const cid = `chatcmpl-fake-${id}`;
    const created = Math.floor(Date.now() / 1000);

    if (!stream) {
      const choices = planned.map((p, index) => ({
        index,
        message: p.tool
          ? { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: [{ id: p.tool.id, type: 'function', function: { name: p.tool.name, arguments: p.parts.join('') } }] }
          : { role: 'assistant', content: p.parts.join(''), refusal: null, annotations: [] },
        logprobs: logprobs && !p.tool ? { content: p.parts.map((t) => logprobEntry(t, top)), refusal: null } : null,
        finish_reason: p.finish,
      }));
      return sendJson(res, 200, { id: cid, object: 'chat.completion', created, model, system_fingerprint: 'fp_fake', choices, usage }, headers);
    }

    const head = `{"id":"${cid}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":"fp_fake",`;
    const chunk = (choice: unknown) => `data: ${head}"choices":[${JSON.stringify(choice)}]}\n\n`;
    const perChoice = planned.map((p, index) => {
      const { tool } = p;
      const first = tool
        ? { role: 'assistant', content: null, refusal: null, tool_calls: [{ index: 0, id: tool.id, type: 'function', function: { name: tool.name, arguments: '' } }] }
        : { role: 'assistant', content: '', refusal: null };
      const out = [chunk({ index, delta: first, logprobs: null, finish_reason: null })];
      for (const piece of p.parts) {
        const delta = tool ? { tool_calls: [{ index: 0, function: { arguments: piece } }] } : { content: piece };
        const lp = logprobs && !tool ? { content: [logprobEntry(piece, top)], refusal: null } : null;
        out.push(chunk({ index, delta, logprobs: lp, finish_reason: null }));
      }
      out.push(chunk({ index, delta: {}, logprobs: null, finish_reason: p.finish }));
      return out;
    });
    if (!res.headersSent) res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (matches(breaking, model)) {
      broken.add(res);
      // Flush the opening and one real piece, then cut the connection: the client sees a stream that dies mid-answer.
      res.write((perChoice[0] ?? []).slice(0, 2).join(''));
      setTimeout(() => res.destroy(), 5);
      return;
    }
    // One write for the whole answer: valid SSE and much cheaper than a write per piece at thousands of req/s.
    let out = perChoice.flat().join('');
    const streamOptions = isObject(body.stream_options) ? body.stream_options : undefined;
    if (streamOptions?.include_usage === true) out += `data: ${head}"choices":[],"usage":${JSON.stringify(usage)}}\n\n`;
    res.end(`${out}data: [DONE]\n\n`);
  }

  function embeddings(body: Json, res: ServerResponse): void {
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
      return sendError(res, 400, 'We could not parse the JSON body of your request.');
    }
    if (!isObject(body)) return sendError(res, 400, 'body must be a JSON object');
    if (path === '/v1/embeddings') embeddings(body, res);
    else chat(req, res, body);
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
    setFailing(models: string[], failOpts: FakeFailOptions = {}) {
      failing = { ...failOpts, models: new Set(models) };
    },
    setBreaking(models: string[]) {
      breaking = new Set(models);
    },
    setHanging(models: string[]) {
      hanging = new Set(models);
    },
    calls(model?: string) {
      return model === undefined ? [...callCounts.values()].reduce((a, b) => a + b, 0) : (callCounts.get(model) ?? 0);
    },
    aborted(model?: string) {
      return model === undefined ? [...abortCounts.values()].reduce((a, b) => a + b, 0) : (abortCounts.get(model) ?? 0);
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
