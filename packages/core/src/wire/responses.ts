// OpenAI's Responses API (its stateless part) ↔ Chat Completions, both ways, as pure functions: a Responses request
// (input as text or items, instructions, function tools, text.format, sampling) becomes the chat body MoMA routes
// and forwards; the provider's chat.completion (or chunks) becomes a Response object (or the Responses stream).
// MoMA stores no responses: whatever needs stored state (previous_response_id, store: true, conversation,
// background, stored prompts, item references) or runs tools at OpenAI (web_search, file_search, ...) is a 400
// that names the limitation.
import { chatAnswer, chatTool, chunkParts, fail, isObject, isString, type Json, type SseEvent, type TokenCounts } from './common.ts';

/** What the Response object echoes of its request (the real API returns these with every response). */
export interface ResponsesEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Json;
  parallel_tool_calls: boolean;
  temperature: number | null;
  top_p: number | null;
  tool_choice: unknown;
  tools: unknown[];
  text: Json;
  user: string | null;
  reasoning: Json;
}

export interface ResponsesToChat {
  chat: Json;
  stream: boolean;
  echo: ResponsesEcho;
}

const STATELESS = 'MoMA\'s /v1/responses is stateless (it stores no responses): send the whole conversation in `input`';

function number(field: string, v: unknown, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) fail(field, `must be ${integer ? 'an integer' : 'a number'}`);
  if (v < min || v > max) fail(field, `must be in [${min}, ${max}] (got ${v})`);
  return v;
}

const given = (v: unknown) => v !== undefined && v !== null;

/** A Responses request → the chat body. Throws InvalidInputError (400) naming the Responses field. */
export function responsesToChat(body: unknown): ResponsesToChat {
  if (!isObject(body)) fail('body', 'must be a JSON object');
  if (given(body.previous_response_id)) fail('previous_response_id', `not supported: ${STATELESS} (or keep it in a MoMA session: x-moma-session-id)`);
  if (body.store === true) fail('store', `store: true is not supported: ${STATELESS}; send store: false`);
  if (given(body.conversation)) fail('conversation', `not supported: ${STATELESS}`);
  if (body.background === true) fail('background', 'background responses are not supported: they are stored to be polled, and MoMA stores no responses');
  if (given(body.prompt)) fail('prompt', 'stored prompt templates are not supported: they live at OpenAI; send the prompt in `instructions` and `input`');
  if (body.model !== undefined && (!isString(body.model) || body.model === '')) fail('model', 'must be a model id or "moma/auto"');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') fail('stream', 'must be a boolean');
  if (body.instructions !== undefined && body.instructions !== null && !isString(body.instructions)) fail('instructions', 'must be a string');

  const messages: Json[] = [];
  if (isString(body.instructions) && body.instructions !== '') messages.push({ role: 'system', content: body.instructions });
  messages.push(...inputMessages(body.input));

  const chat: Json = { model: isString(body.model) ? body.model : 'moma/auto', messages };
  const stream = body.stream === true;
  if (stream) chat.stream = true;
  if (given(body.max_output_tokens)) chat.max_completion_tokens = number('max_output_tokens', body.max_output_tokens, 1, Number.MAX_SAFE_INTEGER, true);
  if (given(body.temperature)) chat.temperature = number('temperature', body.temperature, 0, 2);
  if (given(body.top_p)) chat.top_p = number('top_p', body.top_p, 0, 1);
  if (given(body.parallel_tool_calls)) {
    if (typeof body.parallel_tool_calls !== 'boolean') fail('parallel_tool_calls', 'must be a boolean');
    chat.parallel_tool_calls = body.parallel_tool_calls;
  }
  let tools: unknown[] = [];
  if (given(body.tools)) {
    if (!Array.isArray(body.tools)) fail('tools', 'must be an array');
    tools = body.tools;
    if (tools.length > 0) chat.tools = tools.map((t, k) => functionTool(t, `tools.${k}`));
  }
  if (given(body.tool_choice)) chat.tool_choice = toolChoice(body.tool_choice);
  const text = isObject(body.text) ? body.text : {};
  if (given(body.text) && !isObject(body.text)) fail('text', 'must be an object');
  if (given(text.format)) {
    const format = responseFormat(text.format);
    if (format) chat.response_format = format;
  }
  if (isString(text.verbosity)) chat.verbosity = text.verbosity;
  const reasoning = isObject(body.reasoning) ? body.reasoning : {};
  if (isString(reasoning.effort)) chat.reasoning_effort = reasoning.effort;
  for (const k of ['user', 'safety_identifier', 'prompt_cache_key', 'service_tier'] as const) if (isString(body[k])) chat[k] = body[k];
  if (given(body.metadata) && !isObject(body.metadata)) fail('metadata', 'must be an object');
  if (body.moma !== undefined) chat.moma = body.moma;

  const echo: ResponsesEcho = {
    instructions: isString(body.instructions) ? body.instructions : null,
    max_output_tokens: typeof chat.max_completion_tokens === 'number' ? chat.max_completion_tokens : null,
    metadata: isObject(body.metadata) ? body.metadata : {},
    parallel_tool_calls: body.parallel_tool_calls !== false,
    temperature: typeof chat.temperature === 'number' ? chat.temperature : null,
    top_p: typeof chat.top_p === 'number' ? chat.top_p : null,
    tool_choice: given(body.tool_choice) ? body.tool_choice : 'auto',
    tools,
    text: { format: isObject(text.format) ? text.format : { type: 'text' }, ...(isString(text.verbosity) ? { verbosity: text.verbosity } : {}) },
    user: isString(body.user) ? body.user : null,
    reasoning: { effort: isString(reasoning.effort) ? reasoning.effort : null, summary: null },
  };
  return { chat, stream, echo };
}

function inputMessages(input: unknown): Json[] {
  if (isString(input)) {
    if (input === '') fail('input', 'must not be empty');
    return [{ role: 'user', content: input }];
  }
  if (!Array.isArray(input) || input.length === 0) fail('input', 'required: a string or a non-empty array of input items');
  const out: Json[] = [];
  // Assistant output (text and function calls) accumulates into one chat assistant message until another item comes.
  let assistant: { texts: string[]; calls: Json[] } | undefined;
  const flush = () => {
    if (!assistant) return;
    const text = assistant.texts.join('');
    out.push({
      role: 'assistant',
      content: assistant.calls.length > 0 && text === '' ? null : text,
      ...(assistant.calls.length > 0 ? { tool_calls: assistant.calls } : {}),
    });
    assistant = undefined;
  };
  input.forEach((item: unknown, i) => {
    const f = `input.${i}`;
    if (!isObject(item)) fail(f, 'must be an input item object');
    const type = item.type ?? 'message';
    switch (type) {
      case 'message': {
        const role = item.role;
        if (role === 'assistant') {
          assistant ??= { texts: [], calls: [] };
          assistant.texts.push(assistantText(item.content, `${f}.content`));
          return;
        }
        if (role !== 'user' && role !== 'system' && role !== 'developer') {
          fail(`${f}.role`, `must be user, assistant, system or developer (got ${JSON.stringify(role ?? null)})`);
        }
        flush();
        out.push({ role, content: userContent(item.content, `${f}.content`) });
        return;
      }
      case 'function_call': {
        if (!isString(item.call_id) || item.call_id === '') fail(`${f}.call_id`, 'must be a non-empty string');
        if (!isString(item.name) || item.name === '') fail(`${f}.name`, 'must be a non-empty string');
        if (item.arguments !== undefined && !isString(item.arguments)) fail(`${f}.arguments`, 'must be a JSON string');
        assistant ??= { texts: [], calls: [] };
        assistant.calls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments ?? '{}' } });
        return;
      }
      case 'function_call_output': {
        if (!isString(item.call_id) || item.call_id === '') fail(`${f}.call_id`, 'must be a non-empty string');
        flush();
        out.push({ role: 'tool', tool_call_id: item.call_id, content: toolOutput(item.output, `${f}.output`) });
        return;
      }
      case 'reasoning':
        // A reasoning model's own (often encrypted) trace: nothing another provider can be given.
        return;
      case 'item_reference':
        return fail(`${f}`, `item references are not supported: ${STATELESS}`);
      default:
        return fail(`${f}.type`, `input item "${String(type)}" is not supported: it belongs to a built-in tool that runs at OpenAI (only messages, function_call and function_call_output are)`);
    }
  });
  flush();
  return out;
}

function assistantText(content: unknown, field: string): string {
  if (isString(content)) return content;
  if (!Array.isArray(content)) fail(field, 'must be a string or an array of output_text parts');
  return content
    .map((p: unknown, k) => {
      if (isObject(p) && (p.type === 'output_text' || p.type === 'input_text') && isString(p.text)) return p.text;
      if (isObject(p) && p.type === 'refusal' && isString(p.refusal)) return p.refusal;
      return fail(`${field}.${k}`, 'must be an output_text or refusal part');
    })
    .join('');
}

function userContent(content: unknown, field: string): unknown {
  if (isString(content)) return content;
  if (!Array.isArray(content)) fail(field, 'must be a string or an array of input parts');
  const parts = content.map((p: unknown, k) => inputPart(p, `${field}.${k}`));
  return parts.length === 1 && parts[0]!.type === 'text' ? parts[0]!.text : parts;
}

function inputPart(p: unknown, field: string): Json {
  if (!isObject(p) || !isString(p.type)) fail(field, 'must be an input part with a type');
  switch (p.type) {
    case 'input_text':
      if (!isString(p.text)) fail(`${field}.text`, 'must be a string');
      return { type: 'text', text: p.text };
    case 'input_image': {
      if (given(p.file_id)) fail(`${field}.file_id`, 'images by file id are not supported (files live in OpenAI\'s Files API); send image_url');
      if (!isString(p.image_url) || p.image_url === '') fail(`${field}.image_url`, 'must be an http(s) or data: URL');
      return { type: 'image_url', image_url: { url: p.image_url, ...(isString(p.detail) ? { detail: p.detail } : {}) } };
    }
    case 'input_file': {
      if (given(p.file_url)) fail(`${field}.file_url`, 'files by URL are not supported; send file_data');
      if (isString(p.file_data)) return { type: 'file', file: { file_data: p.file_data, ...(isString(p.filename) ? { filename: p.filename } : {}) } };
      if (isString(p.file_id)) return { type: 'file', file: { file_id: p.file_id } };
      return fail(field, 'must carry file_data or file_id');
    }
    default:
      return fail(`${field}.type`, `must be input_text, input_image or input_file (got ${JSON.stringify(p.type)})`);
  }
}

function toolOutput(output: unknown, field: string): string {
  if (isString(output)) return output;
  if (!Array.isArray(output)) fail(field, 'must be a string or an array of input_text parts');
  return output
    .map((p: unknown, k) => {
      if (isObject(p) && p.type === 'input_text' && isString(p.text)) return p.text;
      return fail(`${field}.${k}`, 'only input_text parts are supported in a function call output (chat tool messages carry text)');
    })
    .join('');
}

function functionTool(t: unknown, field: string): Json {
  if (!isObject(t) || !isString(t.type)) fail(field, 'must be a tool with a type');
  if (t.type !== 'function') {
    fail(`${field}.type`, `built-in tool "${t.type}" is not supported: it runs at OpenAI, and MoMA routes to OpenAI-compatible chat providers (only "function" tools are)`);
  }
  if (!isString(t.name) || t.name === '') fail(`${field}.name`, 'must be a non-empty string');
  if (given(t.parameters) && !isObject(t.parameters)) fail(`${field}.parameters`, 'must be a JSON Schema object');
  return chatTool(t.name, t.description, given(t.parameters) ? t.parameters : undefined, t.strict);
}

function toolChoice(c: unknown): unknown {
  if (c === 'auto' || c === 'none' || c === 'required') return c;
  if (isObject(c) && c.type === 'function') {
    if (!isString(c.name) || c.name === '') fail('tool_choice.name', 'must name a function tool');
    return { type: 'function', function: { name: c.name } };
  }
  return fail('tool_choice', 'must be "auto", "none", "required" or {"type":"function","name":...} (built-in tools are not supported)');
}

function responseFormat(f: unknown): Json | undefined {
  if (!isObject(f) || !isString(f.type)) fail('text.format', 'must be an object with a type');
  if (f.type === 'text') return undefined;
  if (f.type === 'json_object') return { type: 'json_object' };
  if (f.type === 'json_schema') {
    if (!isString(f.name) || f.name === '') fail('text.format.name', 'must be a non-empty string');
    if (!isObject(f.schema)) fail('text.format.schema', 'must be a JSON Schema object');
    const js: Json = { name: f.name, schema: f.schema };
    if (isString(f.description)) js.description = f.description;
    if (typeof f.strict === 'boolean') js.strict = f.strict;
    return { type: 'json_schema', json_schema: js };
  }
  return fail('text.format.type', `must be text, json_object or json_schema (got ${JSON.stringify(f.type)})`);
}

// ---------------------------------------------------------------------------------------------------------------
// Answers

export interface ResponsesAnswerContext {
  /** The response id ("resp_…"); item ids are derived from it. */
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
  /** The model shown when the provider's answer names none. */
  model: string;
  echo: ResponsesEcho;
  usage?: TokenCounts;
  /** Fields added after OpenAI's own (MoMA's `moma`). */
  extra?: Json;
}

export function responsesUsage(u: TokenCounts | undefined): Json {
  const input = u?.promptTokens ?? 0;
  const output = u?.completionTokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u?.cachedTokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: u?.reasoningTokens ?? 0 },
    total_tokens: input + output,
  };
}

/** finish_reason → the Response's status and incomplete_details. */
export function responseStatus(finish: string): { status: 'completed' | 'incomplete'; incomplete_details: Json | null } {
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** The Response object around `output` (the fields the real API returns, echoing the request). */
export function responseObject(
  ctx: Pick<ResponsesAnswerContext, 'id' | 'createdAt' | 'echo'>,
  model: string,
  status: string,
  output: Json[],
  usage: Json | null,
  incomplete: Json | null,
  extra?: Json,
): Json {
  return {
    id: ctx.id,
    object: 'response',
    created_at: ctx.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: incomplete,
    instructions: ctx.echo.instructions,
    max_output_tokens: ctx.echo.max_output_tokens,
    model,
    output,
    parallel_tool_calls: ctx.echo.parallel_tool_calls,
    previous_response_id: null,
    reasoning: ctx.echo.reasoning,
    store: false,
    temperature: ctx.echo.temperature,
    text: ctx.echo.text,
    tool_choice: ctx.echo.tool_choice,
    tools: ctx.echo.tools,
    top_p: ctx.echo.top_p,
    truncation: 'disabled',
    usage,
    user: ctx.echo.user,
    metadata: ctx.echo.metadata,
    ...extra,
  };
}

const messageItem = (id: string, status: string, content: Json[]): Json => ({ id, type: 'message', status, role: 'assistant', content });
const textPart = (text: string): Json => ({ type: 'output_text', text, annotations: [], logprobs: [] });
const refusalPart = (refusal: string): Json => ({ type: 'refusal', refusal });
const callItem = (id: string, status: string, callId: string, name: string, args: string): Json => ({
  id,
  type: 'function_call',
  status,
  arguments: args,
  call_id: callId,
  name,
});

/** A chat.completion → a Response: one output message (text or refusal) and a function_call item per tool call. */
export function chatToResponse(completion: unknown, ctx: ResponsesAnswerContext): Json {
  const a = chatAnswer(completion);
  const { status, incomplete_details } = responseStatus(a.finish);
  const output: Json[] = [];
  const parts: Json[] = [];
  if (a.text !== '') parts.push(textPart(a.text));
  if (a.refusal !== '') parts.push(refusalPart(a.refusal));
  if (parts.length > 0 || a.toolCalls.length === 0) output.push(messageItem(`msg_${ctx.id.replace(/^resp_/, '')}`, status, parts.length ? parts : [textPart('')]));
  a.toolCalls.forEach((t, i) => output.push(callItem(`fc_${ctx.id.replace(/^resp_/, '')}_${i}`, 'completed', t.id, t.name, t.arguments)));
  return responseObject(ctx, a.model || ctx.model, status, output, responsesUsage(a.usage ?? ctx.usage), incomplete_details, ctx.extra);
}

type OpenItem =
  | { kind: 'message'; index: number; id: string; part: 'text' | 'refusal'; text: string; parts: Json[] }
  | { kind: 'call'; index: number; id: string; callId: string; name: string; args: string };

/**
 * Chat chunks (or an agent's text deltas) → the Responses stream: response.created and response.in_progress, then
 * per output item output_item.added, its content (content_part.added, output_text.delta/.done, content_part.done
 * for a message; function_call_arguments.delta/.done for a call) and output_item.done, then response.completed (or
 * response.incomplete) with the whole Response. Every event carries its sequence_number.
 */
export class ResponsesStream {
  private readonly ctx: Pick<ResponsesAnswerContext, 'id' | 'createdAt' | 'echo'>;
  private seq = 0;
  private started = false;
  private model = '';
  private readonly output: Json[] = [];
  private open: OpenItem | undefined;
  private readonly calls = new Map<number, number>();
  private finish = '';

  constructor(ctx: Pick<ResponsesAnswerContext, 'id' | 'createdAt' | 'echo'>) {
    this.ctx = ctx;
  }

  private ev(type: string, fields: Json): SseEvent {
    return { event: type, data: { type, sequence_number: this.seq++, ...fields } };
  }

  /** response.created and response.in_progress (once); `extra` rides on the response (MoMA's decision). */
  start(model: string, extra?: Json): SseEvent[] {
    if (this.started) return [];
    this.started = true;
    this.model = model;
    const response = responseObject(this.ctx, model, 'in_progress', [], null, null, extra);
    return [this.ev('response.created', { response }), this.ev('response.in_progress', { response: responseObject(this.ctx, model, 'in_progress', [], null, null) })];
  }

  chunk(chunk: unknown): SseEvent[] {
    const p = chunkParts(chunk);
    const out = this.start(p.model);
    if (p.content !== '') out.push(...this.delta('text', p.content));
    if (p.refusal !== '') out.push(...this.delta('refusal', p.refusal));
    for (const t of p.tools) {
      let index = this.calls.get(t.index);
      if (index === undefined) {
        out.push(...this.close());
        index = this.output.length;
        this.calls.set(t.index, index);
        const id = `fc_${this.ctx.id.replace(/^resp_/, '')}_${t.index}`;
        const callId = t.id ?? `call_${this.ctx.id}_${t.index}`;
        this.open = { kind: 'call', index, id, callId, name: t.name ?? '', args: '' };
        out.push(this.ev('response.output_item.added', { output_index: index, item: callItem(id, 'in_progress', callId, this.open.name, '') }));
      }
      const open = this.open;
      if (t.arguments === '') continue;
      if (open?.kind === 'call' && open.index === index) {
        open.args += t.arguments;
        out.push(this.ev('response.function_call_arguments.delta', { item_id: open.id, output_index: index, delta: t.arguments }));
      } else {
        // Arguments for a call already done (a provider interleaving parallel calls): kept in the final Response.
        const done = this.output[index];
        if (done) done.arguments = `${String(done.arguments)}${t.arguments}`;
      }
    }
    if (p.finish !== '') this.finish = p.finish;
    return out;
  }

  /** A piece of answer text (an agent's delta). */
  text(delta: string): SseEvent[] {
    return [...this.start(''), ...this.delta('text', delta)];
  }

  private delta(part: 'text' | 'refusal', delta: string): SseEvent[] {
    const out: SseEvent[] = [];
    if (delta === '') return out;
    let open = this.open;
    if (open?.kind !== 'message') {
      out.push(...this.close());
      const index = this.output.length;
      const id = `msg_${this.ctx.id.replace(/^resp_/, '')}${index === 0 ? '' : `_${index}`}`;
      open = { kind: 'message', index, id, part, text: '', parts: [] };
      this.open = open;
      out.push(this.ev('response.output_item.added', { output_index: index, item: messageItem(id, 'in_progress', []) }));
      out.push(this.ev('response.content_part.added', { item_id: id, output_index: index, content_index: 0, part: part === 'text' ? textPart('') : refusalPart('') }));
    } else if (open.part !== part) {
      out.push(...this.closePart(open));
      open.part = part;
      open.text = '';
      out.push(this.ev('response.content_part.added', { item_id: open.id, output_index: open.index, content_index: open.parts.length, part: part === 'text' ? textPart('') : refusalPart('') }));
    }
    open.text += delta;
    const where = { item_id: open.id, output_index: open.index, content_index: open.parts.length };
    out.push(part === 'text' ? this.ev('response.output_text.delta', { ...where, delta, logprobs: [] }) : this.ev('response.refusal.delta', { ...where, delta }));
    return out;
  }

  private closePart(open: Extract<OpenItem, { kind: 'message' }>): SseEvent[] {
    const where = { item_id: open.id, output_index: open.index, content_index: open.parts.length };
    const part = open.part === 'text' ? textPart(open.text) : refusalPart(open.text);
    open.parts.push(part);
    return [
      open.part === 'text'
        ? this.ev('response.output_text.done', { ...where, text: open.text, logprobs: [] })
        : this.ev('response.refusal.done', { ...where, refusal: open.text }),
      this.ev('response.content_part.done', { ...where, part }),
    ];
  }

  private close(): SseEvent[] {
    const open = this.open;
    if (!open) return [];
    this.open = undefined;
    const status = open.kind === 'message' ? responseStatus(this.finish).status : 'completed';
    if (open.kind === 'message') {
      const out = this.closePart(open);
      const item = messageItem(open.id, status, open.parts);
      this.output[open.index] = item;
      out.push(this.ev('response.output_item.done', { output_index: open.index, item }));
      return out;
    }
    const item = callItem(open.id, status, open.callId, open.name, open.args);
    this.output[open.index] = item;
    return [
      this.ev('response.function_call_arguments.done', { item_id: open.id, output_index: open.index, name: open.name, arguments: open.args }),
      this.ev('response.output_item.done', { output_index: open.index, item }),
    ];
  }

  /** The answer is complete: open items are done, then response.completed (or .incomplete) with the Response. */
  end(usage: TokenCounts | undefined, extra?: Json): SseEvent[] {
    const out = this.start('');
    out.push(...this.close());
    const { status, incomplete_details } = responseStatus(this.finish);
    const response = responseObject(this.ctx, this.model, status, this.output.filter(isObject), responsesUsage(usage), incomplete_details, extra);
    out.push(this.ev(status === 'completed' ? 'response.completed' : 'response.incomplete', { response }));
    return out;
  }

  /** An error after the stream began: the Responses `error` event. */
  error(code: string, message: string): SseEvent[] {
    return [this.ev('error', { code, message, param: null })];
  }
}
