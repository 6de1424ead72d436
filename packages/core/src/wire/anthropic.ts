// Anthropic's Messages API ↔ OpenAI Chat Completions, both ways, as pure functions: a Messages request becomes the
// chat body MoMA routes and forwards to OpenAI-compatible providers; the provider's chat.completion (or its stream
// of chunks) becomes Anthropic's message (or its event sequence). What cannot be said in chat terms (server tools,
// MCP servers, containers, assistant prefill, images inside tool results) is a 400 naming the field, never dropped
// in silence; what only tunes Anthropic's own serving (cache_control, service_tier, thinking) is not forwarded.
// (Providers that speak Anthropic natively would take the request as it came: a later step, not this module's.)
import { chatAnswer, chatTool, chunkParts, fail, isObject, isString, parseArguments, type Json, type SseEvent, type TokenCounts } from './common.ts';

export interface AnthropicToChat {
  /** The chat body: OpenAI's fields, plus the client's `moma` routing controls when it sent any. */
  chat: Json;
  stream: boolean;
  /** The client's stop_sequences: a stop at one of them is `stop_sequence`, not `end_turn`. */
  stopSequences: string[];
}

const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** Request fields whose meaning chat has no words for: refused rather than ignored. */
const UNSUPPORTED: Record<string, string> = {
  container: 'code-execution containers are Anthropic-hosted',
  mcp_servers: 'remote MCP servers are called by Anthropic itself',
  context_management: 'context editing is done by Anthropic itself',
};

function number(field: string, v: unknown, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) fail(field, `must be ${integer ? 'an integer' : 'a number'}`);
  if (v < min || v > max) fail(field, `must be in [${min}, ${max}] (got ${v})`);
  return v;
}

/** A Messages API request → the chat body. Throws InvalidInputError (400) naming the Anthropic field. */
export function anthropicToChat(body: unknown): AnthropicToChat {
  if (!isObject(body)) fail('body', 'must be a JSON object');
  for (const [k, why] of Object.entries(UNSUPPORTED)) {
    if (body[k] !== undefined && body[k] !== null) fail(k, `not supported: ${why}, and MoMA routes to OpenAI-compatible providers`);
  }
  if (!isString(body.model) || body.model === '') fail('model', 'required: a model id or "moma/auto"');
  if (body.max_tokens === undefined) fail('max_tokens', 'required');
  const maxTokens = number('max_tokens', body.max_tokens, 1, Number.MAX_SAFE_INTEGER, true);
  if (!Array.isArray(body.messages) || body.messages.length === 0) fail('messages', 'must be a non-empty array of messages');
  if (body.stream !== undefined && typeof body.stream !== 'boolean') fail('stream', 'must be a boolean');

  const messages: Json[] = [];
  const system = systemText(body.system, 'system');
  if (system !== undefined) messages.push({ role: 'system', content: system });
  body.messages.forEach((m: unknown, i) => messages.push(...chatMessages(m, `messages.${i}`)));
  const last = body.messages[body.messages.length - 1] as Json;
  if (last.role === 'assistant') fail(`messages.${body.messages.length - 1}`, 'a final assistant message (prefill) is not supported: end with a user message');

  const chat: Json = { model: body.model, messages, max_completion_tokens: maxTokens };
  const stream = body.stream === true;
  if (stream) chat.stream = true;
  if (body.temperature !== undefined) chat.temperature = number('temperature', body.temperature, 0, 1);
  if (body.top_p !== undefined) chat.top_p = number('top_p', body.top_p, 0, 1);
  // Not an OpenAI field; OpenAI-compatible servers that sample with top-k (vLLM, llama.cpp, Together...) read it.
  if (body.top_k !== undefined) chat.top_k = number('top_k', body.top_k, 0, Number.MAX_SAFE_INTEGER, true);

  let stopSequences: string[] = [];
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((s) => isString(s) && s !== '')) {
      fail('stop_sequences', 'must be an array of non-empty strings');
    }
    stopSequences = body.stop_sequences as string[];
    if (stopSequences.length > 0) chat.stop = stopSequences;
  }
  if (body.metadata !== undefined && body.metadata !== null) {
    if (!isObject(body.metadata)) fail('metadata', 'must be an object');
    const user = body.metadata.user_id;
    if (user !== undefined && user !== null && !isString(user)) fail('metadata.user_id', 'must be a string');
    if (isString(user) && user !== '') chat.user = user;
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) fail('tools', 'must be an array');
    if (body.tools.length > 0) chat.tools = body.tools.map((t: unknown, k) => chatToolOf(t, `tools.${k}`));
  }
  if (body.tool_choice !== undefined) Object.assign(chat, toolChoice(body.tool_choice));
  const format = outputFormat(body.output_config);
  if (format) chat.response_format = format;
  if (body.moma !== undefined) chat.moma = body.moma;
  return { chat, stream, stopSequences };
}

function systemText(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (isString(v)) return v === '' ? undefined : v;
  if (!Array.isArray(v)) fail(field, 'must be a string or an array of text blocks');
  const texts = v.map((b: unknown, k) => {
    if (!isObject(b) || b.type !== 'text' || !isString(b.text)) fail(`${field}.${k}`, 'must be a text block {"type":"text","text":...}');
    return b.text;
  });
  return texts.length === 0 ? undefined : texts.join('\n');
}

/** One Anthropic message → chat messages: a user turn's tool_result blocks become `tool` messages before its rest. */
function chatMessages(m: unknown, field: string): Json[] {
  if (!isObject(m)) fail(field, 'must be an object');
  const { role, content } = m;
  if (role === 'system') return [{ role: 'system', content: systemText(content, `${field}.content`) ?? '' }];
  if (role !== 'user' && role !== 'assistant') fail(`${field}.role`, `must be "user" or "assistant" (got ${JSON.stringify(role ?? null)})`);
  if (isString(content)) return [{ role, content }];
  if (!Array.isArray(content)) fail(`${field}.content`, 'must be a string or an array of content blocks');
  return role === 'user' ? userMessages(content, `${field}.content`) : [assistantMessage(content, `${field}.content`)];
}

/** Calls `each` with every block of a message's content and the block's field, once it is sure to be a block with a type. */
function eachBlock(blocks: unknown[], field: string, each: (b: Json & { type: string }, f: string) => void): void {
  blocks.forEach((b, k) => {
    const f = `${field}.${k}`;
    if (!isObject(b) || !isString(b.type)) fail(f, 'must be a content block with a type');
    each(b as Json & { type: string }, f);
  });
}

/** A text block's text. */
function blockText(b: Json, field: string): string {
  if (!isString(b.text)) fail(`${field}.text`, 'must be a string');
  return b.text;
}

function userMessages(blocks: unknown[], field: string): Json[] {
  const out: Json[] = [];
  const parts: Json[] = [];
  eachBlock(blocks, field, (b, f) => {
    switch (b.type) {
      case 'text':
        parts.push({ type: 'text', text: blockText(b, f) });
        break;
      case 'image':
        parts.push(imagePart(b.source, `${f}.source`));
        break;
      case 'document':
        parts.push(documentPart(b, f));
        break;
      case 'tool_result':
        out.push(toolMessage(b, f));
        break;
      default:
        fail(`${f}.type`, `content block "${b.type}" is not supported in a user message (text, image, document and tool_result are)`);
    }
  });
  if (parts.length === 1 && parts[0]!.type === 'text') out.push({ role: 'user', content: parts[0]!.text });
  else if (parts.length > 0) out.push({ role: 'user', content: parts });
  return out;
}

function imagePart(source: unknown, field: string): Json {
  if (!isObject(source)) fail(field, 'must be an image source');
  if (source.type === 'base64') {
    if (!isString(source.media_type) || !IMAGE_TYPES.has(source.media_type)) fail(`${field}.media_type`, `must be one of ${[...IMAGE_TYPES].join(', ')}`);
    if (!isString(source.data) || source.data === '') fail(`${field}.data`, 'must be base64 image data');
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source.type === 'url') {
    if (!isString(source.url) || !/^https?:\/\//i.test(source.url)) fail(`${field}.url`, 'must be an http(s) URL');
    return { type: 'image_url', image_url: { url: source.url } };
  }
  return fail(`${field}.type`, `image source "${String(source.type)}" is not supported (base64 and url are; files live in Anthropic's Files API)`);
}

function documentPart(b: Json, field: string): Json {
  const source = b.source;
  if (!isObject(source)) fail(`${field}.source`, 'must be a document source');
  if (source.type === 'text' && isString(source.data)) return { type: 'text', text: source.data };
  if (source.type === 'base64' && source.media_type === 'application/pdf' && isString(source.data)) {
    const filename = isString(b.title) && b.title !== '' ? b.title : 'document.pdf';
    return { type: 'file', file: { filename, file_data: `data:application/pdf;base64,${source.data}` } };
  }
  return fail(`${field}.source`, 'only base64 PDF and plain-text documents are supported');
}

function toolMessage(b: Json, field: string): Json {
  if (!isString(b.tool_use_id) || b.tool_use_id === '') fail(`${field}.tool_use_id`, 'must be a non-empty string');
  let text: string;
  if (b.content === undefined || b.content === null) text = '';
  else if (isString(b.content)) text = b.content;
  else if (Array.isArray(b.content)) {
    text = b.content
      .map((p: unknown, k) => {
        if (isObject(p) && p.type === 'text' && isString(p.text)) return p.text;
        return fail(`${field}.content.${k}`, 'only text blocks are supported in a tool result (chat tool messages carry text)');
      })
      .join('\n');
  } else return fail(`${field}.content`, 'must be a string or an array of text blocks');
  // Chat's tool message has no error flag: the model reads that the tool failed from the text.
  return { role: 'tool', tool_call_id: b.tool_use_id, content: b.is_error === true ? `Error: ${text}` : text };
}

function assistantMessage(blocks: unknown[], field: string): Json {
  const texts: string[] = [];
  const calls: Json[] = [];
  eachBlock(blocks, field, (b, f) => {
    switch (b.type) {
      case 'text':
        texts.push(blockText(b, f));
        break;
      case 'tool_use':
        if (!isString(b.id) || b.id === '') fail(`${f}.id`, 'must be a non-empty string');
        if (!isString(b.name) || b.name === '') fail(`${f}.name`, 'must be a non-empty string');
        calls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
        break;
      case 'thinking':
      case 'redacted_thinking':
        // Another model's reasoning, signed for Anthropic: nothing an OpenAI-compatible model can be given.
        break;
      default:
        fail(`${f}.type`, `content block "${b.type}" is not supported in an assistant message (text, tool_use and thinking are)`);
    }
  });
  const text = texts.join('\n');
  return { role: 'assistant', content: calls.length > 0 && text === '' ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) };
}

function chatToolOf(t: unknown, field: string): Json {
  if (!isObject(t)) fail(field, 'must be a tool object');
  if (t.type !== undefined && t.type !== null && t.type !== 'custom') {
    fail(`${field}.type`, `server tool "${String(t.type)}" is not supported: it runs at Anthropic, and MoMA routes to OpenAI-compatible providers (define it as a client tool with input_schema)`);
  }
  if (!isString(t.name) || t.name === '') fail(`${field}.name`, 'must be a non-empty string');
  if (!isObject(t.input_schema)) fail(`${field}.input_schema`, 'must be a JSON Schema object');
  return chatTool(t.name, t.description, t.input_schema, t.strict);
}

function toolChoice(c: unknown): Json {
  if (!isObject(c) || !isString(c.type)) fail('tool_choice', 'must be an object with a type');
  const parallel = c.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  switch (c.type) {
    case 'auto':
      return { tool_choice: 'auto', ...parallel };
    case 'any':
      return { tool_choice: 'required', ...parallel };
    case 'none':
      return { tool_choice: 'none' };
    case 'tool':
      if (!isString(c.name) || c.name === '') fail('tool_choice.name', 'must name a tool');
      return { tool_choice: { type: 'function', function: { name: c.name } }, ...parallel };
    default:
      return fail('tool_choice.type', `must be auto, any, tool or none (got ${JSON.stringify(c.type)})`);
  }
}

/** output_config.format (structured outputs) → response_format; effort has no chat counterpart and is not forwarded. */
function outputFormat(config: unknown): Json | undefined {
  if (config === undefined || config === null) return undefined;
  if (!isObject(config)) fail('output_config', 'must be an object');
  const f = config.format;
  if (f === undefined || f === null) return undefined;
  if (!isObject(f) || f.type !== 'json_schema' || !isObject(f.schema)) fail('output_config.format', 'must be {"type":"json_schema","schema":{...}}');
  return { type: 'json_schema', json_schema: { name: 'output', schema: f.schema, strict: true } };
}

// ---------------------------------------------------------------------------------------------------------------
// Answers

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

/** OpenAI's finish_reason → Anthropic's stop_reason and stop_sequence. */
export function anthropicStop(
  finish: string,
  matched: string | undefined,
  stopSequences: readonly string[],
  calledTools: boolean,
): { stop_reason: AnthropicStopReason; stop_sequence: string | null } {
  if (finish === 'tool_calls' || finish === 'function_call' || (calledTools && finish !== 'length')) return { stop_reason: 'tool_use', stop_sequence: null };
  if (finish === 'length') return { stop_reason: 'max_tokens', stop_sequence: null };
  if (finish === 'content_filter') return { stop_reason: 'refusal', stop_sequence: null };
  // OpenAI does not say which stop it met; servers that do (vLLM, SGLang) let a stop sequence be told from the end.
  if (matched !== undefined && stopSequences.includes(matched)) return { stop_reason: 'stop_sequence', stop_sequence: matched };
  return { stop_reason: 'end_turn', stop_sequence: null };
}

/** Anthropic's usage: input_tokens excludes what was read from the cache, which is counted on its own. */
export function anthropicUsage(u: TokenCounts | undefined): Json {
  const cached = u?.cachedTokens ?? 0;
  return {
    input_tokens: Math.max(0, (u?.promptTokens ?? 0) - cached),
    output_tokens: u?.completionTokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

export interface AnthropicAnswerContext {
  /** The message id ("msg_…"). */
  id: string;
  /** The model shown when the provider's answer names none (e.g. an agent answered). */
  model: string;
  stopSequences: readonly string[];
  /** Counts to use when the provider's answer carries no usage (the executor's accounting). */
  usage?: TokenCounts;
  /** Fields added after Anthropic's own (MoMA's `moma`). */
  extra?: Json;
}

/** A chat.completion → Anthropic's message (choice 0: text and tool_use blocks, stop reason, usage). */
export function chatToAnthropicMessage(completion: unknown, ctx: AnthropicAnswerContext): Json {
  const a = chatAnswer(completion);
  const content: Json[] = [];
  const text = a.text || a.refusal;
  if (text !== '') content.push({ type: 'text', text });
  for (const t of a.toolCalls) content.push({ type: 'tool_use', id: t.id, name: t.name, input: parseArguments(t.arguments) });
  return {
    id: ctx.id,
    type: 'message',
    role: 'assistant',
    model: a.model || ctx.model,
    content,
    ...anthropicStop(a.finish, a.matchedStop, ctx.stopSequences, a.toolCalls.length > 0),
    usage: anthropicUsage(a.usage ?? ctx.usage),
    ...ctx.extra,
  };
}

/** Anthropic's error body for an HTTP status. */
export function anthropicError(status: number, message: string): Json {
  return { type: 'error', error: { type: anthropicErrorType(status), message } };
}

export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
    case 409:
    case 415:
    case 422:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 400 && status < 500 ? 'invalid_request_error' : 'api_error';
  }
}

/**
 * Chat chunks (or an agent's text deltas) → Anthropic's stream: message_start, then per content block
 * content_block_start / content_block_delta (text_delta, input_json_delta) / content_block_stop, then message_delta
 * with the stop reason and usage, and message_stop. One instance per answer; each call returns the events to send.
 */
export class AnthropicStream {
  private readonly id: string;
  private readonly stopSequences: readonly string[];
  private started = false;
  private blocks = 0;
  private open: { kind: 'text' } | { kind: 'tool'; index: number } | undefined;
  private readonly toolBlocks = new Map<number, number>();
  private finish = '';
  private matched: string | undefined;
  private calledTools = false;

  constructor(id: string, stopSequences: readonly string[]) {
    this.id = id;
    this.stopSequences = stopSequences;
  }

  /** message_start (once): the message with no content yet; `extra` rides on the message (MoMA's decision). */
  start(model: string, extra?: Json): SseEvent[] {
    if (this.started) return [];
    this.started = true;
    const message = {
      id: this.id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: anthropicUsage(undefined),
      ...extra,
    };
    return [{ event: 'message_start', data: { type: 'message_start', message } }];
  }

  /** One chat.completion.chunk (parsed). */
  chunk(chunk: unknown): SseEvent[] {
    const p = chunkParts(chunk);
    const out = this.start(p.model);
    if (p.content !== '') out.push(...this.text(p.content));
    if (p.refusal !== '') out.push(...this.text(p.refusal));
    for (const t of p.tools) {
      let block = this.toolBlocks.get(t.index);
      if (block === undefined) {
        out.push(...this.close());
        block = this.blocks++;
        this.toolBlocks.set(t.index, block);
        this.open = { kind: 'tool', index: t.index };
        this.calledTools = true;
        const content_block = { type: 'tool_use', id: t.id ?? `toolu_${this.id}_${t.index}`, name: t.name ?? '', input: {} };
        out.push({ event: 'content_block_start', data: { type: 'content_block_start', index: block, content_block } });
      }
      if (t.arguments !== '') {
        out.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: t.arguments } } });
      }
    }
    if (p.finish !== '') this.finish = p.finish;
    if (p.matchedStop !== undefined) this.matched = p.matchedStop;
    return out;
  }

  /** A piece of answer text (an agent's delta, or a chunk's content). */
  text(delta: string): SseEvent[] {
    const out = this.start('');
    if (delta === '') return out;
    if (this.open?.kind !== 'text') {
      out.push(...this.close());
      this.open = { kind: 'text' };
      out.push({ event: 'content_block_start', data: { type: 'content_block_start', index: this.blocks++, content_block: { type: 'text', text: '' } } });
    }
    out.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index: this.blocks - 1, delta: { type: 'text_delta', text: delta } } });
    return out;
  }

  /** The answer is complete: the open block stops, then message_delta (stop reason, usage, `extra`) and message_stop. */
  end(usage: TokenCounts | undefined, extra?: Json): SseEvent[] {
    const out = [...this.start(''), ...this.close()];
    const u = anthropicUsage(usage);
    out.push({
      event: 'message_delta',
      data: { type: 'message_delta', delta: anthropicStop(this.finish, this.matched, this.stopSequences, this.calledTools), usage: u, ...extra },
    });
    out.push({ event: 'message_stop', data: { type: 'message_stop' } });
    return out;
  }

  /** An error after the stream began: Anthropic's `error` event. */
  error(status: number, message: string): SseEvent[] {
    return [{ event: 'error', data: anthropicError(status, message) }];
  }

  private close(): SseEvent[] {
    if (!this.open) return [];
    const index = this.open.kind === 'text' ? this.blocks - 1 : this.toolBlocks.get(this.open.index)!;
    this.open = undefined;
    return [{ event: 'content_block_stop', data: { type: 'content_block_stop', index } }];
  }
}
