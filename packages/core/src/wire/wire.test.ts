// Table-driven tests of the wire translations (@moma/core/wire): Anthropic Messages and OpenAI Responses to chat
// bodies, chat answers (whole and streamed) back to each, and the errors a request that cannot be translated gets.
import { describe, expect, it } from 'vitest';
import { validateRequestParts } from '../rules/index.ts';
import { expectInvalid, responsesTextEventTypes } from '../testing.ts';
import {
  anthropicError,
  anthropicErrorType,
  anthropicStop,
  anthropicToChat,
  AnthropicStream,
  chatToAnthropicMessage,
  chatToResponse,
  parseArguments,
  responsesToChat,
  ResponsesStream,
  sseText,
  type Json,
  type SseEvent,
  type TokenCounts,
} from './index.ts';

const user = (content: unknown) => ({ role: 'user', content });
const base = { model: 'moma/auto', max_tokens: 64 };

/**
 * One test per [name, request, expected]: the door's translation makes of the request a chat body that matches
 * `expected`, and that passes the rules the chat door applies to what clients send.
 */
function itTranslates(door: string, toChat: (body: unknown) => { chat: Json }, cases: Array<[string, unknown, Json]>): void {
  for (const [name, input, expected] of cases) {
    it(`wire ${door} - ${name}`, () => {
      const { chat } = toChat(input);
      expect(chat).toMatchObject(expected);
      expect(() => validateRequestParts(chat)).not.toThrow();
    });
  }
}

/** One test per [name, request, field, part]: the door's translation refuses the request with a 400 naming `field`. */
function itRefuses(door: string, toChat: (body: unknown) => unknown, errors: Array<[string, unknown, string, string]>): void {
  for (const [name, input, field, part] of errors) {
    it(`wire ${door} - ${name} is a 400 naming ${field}`, () => {
      expectInvalid(() => toChat(input), field, part);
    });
  }
}

/** A tool call in a chat message, as OpenAI's chat API writes it. */
const toolCall = (id: string, name: string, args: string): Json => ({ id, type: 'function', function: { name, arguments: args } });

/**
 * In chat terms, the tool exchange both doors' tests translate: "weather in Oslo and Rome?", an assistant turn that
 * says "Checking." and calls `weather` for Oslo and for Rome (the two call `ids`), and the two tools' `results`.
 */
function weatherExchange(ids: [string, string], results: [string, string]): Json[] {
  return [
    user('weather in Oslo and Rome?'),
    { role: 'assistant', content: 'Checking.', tool_calls: [toolCall(ids[0], 'weather', '{"city":"Oslo"}'), toolCall(ids[1], 'weather', '{"city":"Rome"}')] },
    { role: 'tool', tool_call_id: ids[0], content: results[0] },
    { role: 'tool', tool_call_id: ids[1], content: results[1] },
  ];
}

/** A chat.completion as an OpenAI-compatible provider sends it. */
function completion(message: Json, finish: string, extra: Json = {}): Json {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-x',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish, ...extra }],
    usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 },
  };
}

const chunk = (delta: Json, finish: string | null = null, extra: Json = {}): Json => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  model: 'gpt-x',
  choices: [{ index: 0, delta, finish_reason: finish, ...extra }],
});

const toolDelta = (index: number, args: string, head?: { id: string; name: string }) => ({
  tool_calls: [{ index, ...(head ? { id: head.id, type: 'function', function: { name: head.name, arguments: args } } : { function: { arguments: args } }) }],
});

/** "Hello" as a provider streams it: a role chunk, "Hel", "lo" and a stop chunk. */
const HELLO_CHUNKS = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop')];

/** "Checking." and then a call to `weather` for Oslo (call_a), its arguments in two pieces; no finish chunk yet. */
const CHECKING_OSLO_CHUNKS = [
  chunk({ content: 'Checking.' }),
  chunk(toolDelta(0, '', { id: 'call_a', name: 'weather' })),
  chunk(toolDelta(0, '{"city":')),
  chunk(toolDelta(0, '"Oslo"}')),
];

/** MoMA's fields on a stream's start (the decision, 'd') and end (its usage, 'u'). */
const MOMA_EXTRA = { start: { moma: { decision: 'd' } }, end: { moma: { usage: 'u' } } };

/**
 * What `s` (an AnthropicStream or ResponsesStream) makes of a streamed answer: its start for model gpt-x (with
 * `extra.start`), each of `chunks`, and its end with `usage` (and `extra.end`).
 */
function translateStream(
  s: { start(model: string, extra?: Json): SseEvent[]; chunk(chunk: unknown): SseEvent[]; end(usage: TokenCounts | undefined, extra?: Json): SseEvent[] },
  chunks: Json[],
  usage: TokenCounts | undefined,
  extra: { start?: Json; end?: Json } = {},
): SseEvent[] {
  return [...s.start('gpt-x', extra.start), ...chunks.flatMap((c) => s.chunk(c)), ...s.end(usage, extra.end)];
}

const names = (events: SseEvent[]) => events.map((e) => (e.data.delta && typeof (e.data.delta as Json).type === 'string' ? `${e.event}:${(e.data.delta as Json).type}` : e.event));

// ---------------------------------------------------------------------------------------------------------------
// Anthropic → chat

describe('wire anthropic - request to chat', () => {
  const cases: Array<[string, Json, Json]> = [
    ['a string message, max_tokens as max_completion_tokens', { ...base, messages: [user('hi')] }, { model: 'moma/auto', messages: [user('hi')], max_completion_tokens: 64 }],
    [
      'the system prompt (string) leads as a system message',
      { ...base, system: 'be brief', messages: [user('hi')] },
      { messages: [{ role: 'system', content: 'be brief' }, user('hi')] },
    ],
    [
      'system text blocks are joined; cache_control is not forwarded',
      { ...base, system: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: { type: 'ephemeral' } }], messages: [user('hi')] },
      { messages: [{ role: 'system', content: 'a\nb' }, user('hi')] },
    ],
    [
      'sampling: temperature, top_p, top_k, stop_sequences as stop, metadata.user_id as user',
      { ...base, messages: [user('hi')], temperature: 0.3, top_p: 0.9, top_k: 40, stop_sequences: ['END'], metadata: { user_id: 'u-1' } },
      { temperature: 0.3, top_p: 0.9, top_k: 40, stop: ['END'], user: 'u-1' },
    ],
    ['stream: true', { ...base, stream: true, messages: [user('hi')] }, { stream: true }],
    [
      'a single text block becomes a string; several blocks and images stay parts',
      {
        ...base,
        messages: [
          user([{ type: 'text', text: 'only' }]),
          { role: 'assistant', content: 'ok' },
          user([
            { type: 'text', text: 'what is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ]),
        ],
      },
      {
        messages: [
          user('only'),
          { role: 'assistant', content: 'ok' },
          user([
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ]),
        ],
      },
    ],
    [
      'documents: a base64 PDF as a file part, a text document as text',
      {
        ...base,
        messages: [
          user([
            { type: 'document', title: 'r.pdf', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' } },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } },
            { type: 'text', text: 'summarise' },
          ]),
        ],
      },
      {
        messages: [
          user([
            { type: 'file', file: { filename: 'r.pdf', file_data: 'data:application/pdf;base64,JVBER' } },
            { type: 'text', text: 'notes' },
            { type: 'text', text: 'summarise' },
          ]),
        ],
      },
    ],
    [
      'tools, tool_use in the assistant turn, tool_result as tool messages before the rest of the user turn',
      {
        ...base,
        tools: [{ name: 'weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
        messages: [
          user('weather in Oslo and Rome?'),
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hmm', signature: 'sig' },
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
              { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Rome' } },
            ],
          },
          user([
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '3°C' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'no data' }], is_error: true },
            { type: 'text', text: 'thanks' },
          ]),
        ],
      },
      {
        tools: [{ type: 'function', function: { name: 'weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
        tool_choice: 'auto',
        parallel_tool_calls: false,
        messages: [...weatherExchange(['toolu_1', 'toolu_2'], ['3°C', 'Error: no data']), user('thanks')],
      },
    ],
    [
      'an assistant turn of tool calls only has null content',
      {
        ...base,
        tools: [{ name: 'f', input_schema: { type: 'object' } }],
        messages: [user('go'), { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] }, user([{ type: 'tool_result', tool_use_id: 't1' }])],
      },
      {
        messages: [
          user('go'),
          { role: 'assistant', content: null, tool_calls: [toolCall('t1', 'f', '{}')] },
          { role: 'tool', tool_call_id: 't1', content: '' },
        ],
      },
    ],
    ['tool_choice any → required', { ...base, messages: [user('x')], tool_choice: { type: 'any' } }, { tool_choice: 'required' }],
    ['tool_choice none', { ...base, messages: [user('x')], tool_choice: { type: 'none' } }, { tool_choice: 'none' }],
    [
      'tool_choice tool → that function',
      { ...base, messages: [user('x')], tool_choice: { type: 'tool', name: 'f' } },
      { tool_choice: { type: 'function', function: { name: 'f' } } },
    ],
    [
      'output_config.format → a json_schema response_format',
      { ...base, messages: [user('x')], output_config: { format: { type: 'json_schema', schema: { type: 'object' } } } },
      { response_format: { type: 'json_schema', json_schema: { name: 'output', schema: { type: 'object' }, strict: true } } },
    ],
    ['MoMA routing controls ride along under moma', { ...base, messages: [user('x')], moma: { mode: 'cost' } }, { moma: { mode: 'cost' } }],
    [
      'a system message inside messages (newer SDKs) stays a system message',
      { ...base, messages: [{ role: 'system', content: 'rules' }, user('x')] },
      { messages: [{ role: 'system', content: 'rules' }, user('x')] },
    ],
  ];
  itTranslates('anthropic', anthropicToChat, cases);

  it('wire anthropic - thinking, service_tier and other Anthropic-only tuning are not forwarded', () => {
    const { chat } = anthropicToChat({ ...base, messages: [user('x')], thinking: { type: 'enabled', budget_tokens: 10 }, service_tier: 'auto', stream: false });
    expect(Object.keys(chat).sort()).toEqual(['max_completion_tokens', 'messages', 'model']);
  });

  it('wire anthropic - returns the stream flag and the stop sequences', () => {
    expect(anthropicToChat({ ...base, messages: [user('x')], stream: true, stop_sequences: ['a', 'b'] })).toMatchObject({ stream: true, stopSequences: ['a', 'b'] });
    expect(anthropicToChat({ ...base, messages: [user('x')] })).toMatchObject({ stream: false, stopSequences: [] });
  });

  const errors: Array<[string, unknown, string, string]> = [
    ['not an object', [1], 'body', 'JSON object'],
    ['no model', { max_tokens: 5, messages: [user('x')] }, 'model', 'required'],
    ['no max_tokens (required, as in Anthropic\'s API)', { model: 'm', messages: [user('x')] }, 'max_tokens', 'required'],
    ['max_tokens 0', { ...base, max_tokens: 0, messages: [user('x')] }, 'max_tokens', '[1,'],
    ['max_tokens not an integer', { ...base, max_tokens: 1.5, messages: [user('x')] }, 'max_tokens', 'integer'],
    ['no messages', { ...base, messages: [] }, 'messages', 'non-empty'],
    ['temperature above 1', { ...base, temperature: 1.5, messages: [user('x')] }, 'temperature', '[0, 1]'],
    ['top_k negative', { ...base, top_k: -1, messages: [user('x')] }, 'top_k', '[0,'],
    ['stop_sequences not strings', { ...base, stop_sequences: [1], messages: [user('x')] }, 'stop_sequences', 'strings'],
    ['unknown role', { ...base, messages: [{ role: 'robot', content: 'x' }] }, 'messages.0.role', '"robot"'],
    ['assistant prefill', { ...base, messages: [user('x'), { role: 'assistant', content: 'The answer is' }] }, 'messages.1', 'prefill'],
    ['a server tool', { ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [user('x')] }, 'tools.0.type', 'server tool "web_search_20250305"'],
    ['a tool without input_schema', { ...base, tools: [{ name: 'f' }], messages: [user('x')] }, 'tools.0.input_schema', 'JSON Schema'],
    ['mcp_servers', { ...base, mcp_servers: [{ url: 'https://x' }], messages: [user('x')] }, 'mcp_servers', 'not supported'],
    ['container', { ...base, container: 'c1', messages: [user('x')] }, 'container', 'not supported'],
    ['an unknown content block', { ...base, messages: [user([{ type: 'search_result', source: 'x' }])] }, 'messages.0.content.0.type', '"search_result"'],
    ['an image from the Files API', { ...base, messages: [user([{ type: 'image', source: { type: 'file', file_id: 'f' } }])] }, 'messages.0.content.0.source.type', 'Files API'],
    ['an image of an unknown media type', { ...base, messages: [user([{ type: 'image', source: { type: 'base64', media_type: 'image/tiff', data: 'x' } }])] }, 'messages.0.content.0.source.media_type', 'image/png'],
    [
      'an image inside a tool result',
      { ...base, messages: [user([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] }])] },
      'messages.0.content.0.content.0',
      'only text blocks',
    ],
    ['a tool result without tool_use_id', { ...base, messages: [user([{ type: 'tool_result', content: 'x' }])] }, 'messages.0.content.0.tool_use_id', 'non-empty'],
    ['tool_choice of an unknown type', { ...base, tool_choice: { type: 'some' }, messages: [user('x')] }, 'tool_choice.type', 'auto, any, tool or none'],
    ['output_config.format not a json_schema', { ...base, output_config: { format: { type: 'xml' } }, messages: [user('x')] }, 'output_config.format', 'json_schema'],
  ];
  itRefuses('anthropic', anthropicToChat, errors);
});

// ---------------------------------------------------------------------------------------------------------------
// chat → Anthropic

describe('wire anthropic - answer to message', () => {
  const ctx = { id: 'msg_1', model: 'fallback-model', stopSequences: ['END'] };
  const cases: Array<[string, Json, Json]> = [
    [
      'text, end_turn, usage',
      completion({ content: 'Hello.' }, 'stop'),
      {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'gpt-x',
        content: [{ type: 'text', text: 'Hello.' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 4, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    ],
    ['length → max_tokens', completion({ content: 'Hel' }, 'length'), { stop_reason: 'max_tokens' }],
    ['content_filter → refusal', completion({ content: '' }, 'content_filter'), { stop_reason: 'refusal', content: [] }],
    [
      'a stop the server names (vLLM stop_reason) that is a client stop sequence → stop_sequence',
      completion({ content: 'a' }, 'stop', { stop_reason: 'END' }),
      { stop_reason: 'stop_sequence', stop_sequence: 'END' },
    ],
    ['a stop token the server names that is not a client stop sequence → end_turn', completion({ content: 'a' }, 'stop', { stop_reason: 128001 }), { stop_reason: 'end_turn' }],
    [
      'tool calls → tool_use blocks with parsed input, after the text',
      completion(
        {
          content: 'Let me check.',
          tool_calls: [
            toolCall('call_1', 'weather', '{"city":"Oslo"}'),
            toolCall('call_2', 'time', ''),
          ],
        },
        'tool_calls',
      ),
      {
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } },
          { type: 'tool_use', id: 'call_2', name: 'time', input: {} },
        ],
        stop_reason: 'tool_use',
      },
    ],
    [
      'tool calls under finish_reason stop (some providers) are still tool_use',
      completion({ content: null, tool_calls: [toolCall('c', 'f', '{}')] }, 'stop'),
      { stop_reason: 'tool_use', content: [{ type: 'tool_use', id: 'c', name: 'f', input: {} }] },
    ],
    [
      'cached prompt tokens are counted apart from input_tokens',
      { ...completion({ content: 'x' }, 'stop'), usage: { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 60 } } },
      { usage: { input_tokens: 40, output_tokens: 5, cache_read_input_tokens: 60, cache_creation_input_tokens: 0 } },
    ],
    [
      'no model and no usage in the answer: the context\'s model and counts',
      { choices: [{ index: 0, message: { content: 'agent says hi' }, finish_reason: 'stop' }] },
      { model: 'fallback-model', content: [{ type: 'text', text: 'agent says hi' }], usage: { input_tokens: 7, output_tokens: 3 } },
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(`wire anthropic - ${name}`, () => {
      expect(chatToAnthropicMessage(input, { ...ctx, usage: { promptTokens: 7, completionTokens: 3 } })).toMatchObject(expected);
    });
  }

  it('wire anthropic - extra fields (MoMA\'s) come after Anthropic\'s own', () => {
    const m = chatToAnthropicMessage(completion({ content: 'x' }, 'stop'), { ...ctx, extra: { moma: { decision: { target: 'llm:gpt-x' } } } });
    expect(Object.keys(m).at(-1)).toBe('moma');
    expect(m.moma).toEqual({ decision: { target: 'llm:gpt-x' } });
  });

  const stops: Array<[string, string, string | undefined, string[], boolean, string, string | null]> = [
    ['stop', 'stop', undefined, [], false, 'end_turn', null],
    ['stop at a client sequence', 'stop', 'X', ['X'], false, 'stop_sequence', 'X'],
    ['stop at a sequence the client did not give', 'stop', 'Y', ['X'], false, 'end_turn', null],
    ['length', 'length', undefined, [], false, 'max_tokens', null],
    ['length with a tool call begun', 'length', undefined, [], true, 'max_tokens', null],
    ['tool_calls', 'tool_calls', undefined, [], true, 'tool_use', null],
    ['function_call (legacy)', 'function_call', undefined, [], false, 'tool_use', null],
    ['content_filter', 'content_filter', undefined, [], false, 'refusal', null],
    ['no finish reason', '', undefined, [], false, 'end_turn', null],
  ];
  for (const [name, finish, matched, seqs, tools, reason, seq] of stops) {
    it(`wire anthropic - stop reason: ${name} → ${reason}`, () => {
      expect(anthropicStop(finish, matched, seqs, tools)).toEqual({ stop_reason: reason, stop_sequence: seq });
    });
  }

  const errorTypes: Array<[number, string]> = [
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [422, 'invalid_request_error'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'overloaded_error'],
    [504, 'timeout_error'],
  ];
  for (const [status, type] of errorTypes) {
    it(`wire anthropic - HTTP ${status} is an ${type}`, () => {
      expect(anthropicErrorType(status)).toBe(type);
      expect(anthropicError(status, 'boom')).toEqual({ type: 'error', error: { type, message: 'boom' } });
    });
  }

  const args: Array<[string, string, Json]> = [
    ['an object', '{"a":1}', { a: 1 }],
    ['empty', '', {}],
    ['not JSON', '{"a":', { _raw: '{"a":' }],
    ['JSON that is not an object', '[1]', { _raw: '[1]' }],
  ];
  for (const [name, text, expected] of args) it(`wire - tool arguments: ${name}`, () => expect(parseArguments(text)).toEqual(expected));
});

describe('wire anthropic - stream', () => {
  it('wire anthropic - text chunks: message_start, one text block, message_delta with stop reason and usage, message_stop', () => {
    const events = translateStream(new AnthropicStream('msg_1', []), HELLO_CHUNKS, { promptTokens: 9, completionTokens: 2 }, MOMA_EXTRA);
    expect(names(events)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta:text_delta',
      'content_block_delta:text_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0]!.data).toMatchObject({ message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'gpt-x', content: [], stop_reason: null, moma: { decision: 'd' } } });
    expect(events[1]!.data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(events[2]!.data).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } });
    expect(events[5]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 9, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      moma: { usage: 'u' },
    });
  });

  it('wire anthropic - text then two tool calls: a block each, input_json_delta pieces, stop_reason tool_use', () => {
    const chunks = [...CHECKING_OSLO_CHUNKS, chunk(toolDelta(1, '{}', { id: 'call_b', name: 'time' })), chunk({}, 'tool_calls')];
    const events = translateStream(new AnthropicStream('msg_1', []), chunks, { promptTokens: 1, completionTokens: 1 });
    expect(names(events)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta:text_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta:input_json_delta',
      'content_block_delta:input_json_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta:input_json_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[4]!.data).toEqual({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_a', name: 'weather', input: {} } });
    expect(events.slice(5, 7).map((e) => (e.data.delta as Json).partial_json).join('')).toBe('{"city":"Oslo"}');
    expect(events[7]!.data).toEqual({ type: 'content_block_stop', index: 1 });
    expect(events[8]!.data).toMatchObject({ index: 2, content_block: { id: 'call_b', name: 'time' } });
    expect((events.at(-2)!.data.delta as Json).stop_reason).toBe('tool_use');
  });

  it('wire anthropic - an agent\'s text deltas and a length stop', () => {
    const s = new AnthropicStream('msg_1', []);
    const events = [...s.start('agent:bot'), ...s.text('a'), ...s.text(''), ...s.text('b'), ...s.chunk(chunk({}, 'length')), ...s.end(undefined)];
    expect(names(events)).toEqual(['message_start', 'content_block_start', 'content_block_delta:text_delta', 'content_block_delta:text_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect((events.at(-2)!.data.delta as Json).stop_reason).toBe('max_tokens');
  });

  it('wire anthropic - an answer with no content still opens and closes the message; start is sent once', () => {
    const s = new AnthropicStream('msg_1', ['END']);
    const events = [...s.start('m'), ...s.start('m'), ...s.chunk(chunk({}, 'stop', { stop_reason: 'END' })), ...s.end({ promptTokens: 1, completionTokens: 0 })];
    expect(names(events)).toEqual(['message_start', 'message_delta', 'message_stop']);
    expect(events[1]!.data.delta).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
  });

  it('wire anthropic - an error after the start is Anthropic\'s error event, written as a named SSE event', () => {
    const [e] = new AnthropicStream('m', []).error(503, 'provider down');
    expect(sseText(e!)).toBe('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"provider down"}}\n\n');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Responses → chat

describe('wire responses - request to chat', () => {
  const cases: Array<[string, Json, Json]> = [
    ['input as a string; model defaults to moma/auto', { input: 'hi' }, { model: 'moma/auto', messages: [user('hi')] }],
    [
      'instructions lead as a system message; sampling and max_output_tokens',
      { model: 'm-large', instructions: 'be brief', input: 'hi', temperature: 0.2, top_p: 0.5, max_output_tokens: 50, stream: true },
      { model: 'm-large', messages: [{ role: 'system', content: 'be brief' }, user('hi')], temperature: 0.2, top_p: 0.5, max_completion_tokens: 50, stream: true },
    ],
    [
      'message items with input parts: text, image, file',
      {
        input: [
          { role: 'developer', content: 'use metric units' },
          {
            type: 'message',
            role: 'user',
            content: [
              { type: 'input_text', text: 'what is this?' },
              { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' },
              { type: 'input_file', filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBER' },
            ],
          },
        ],
      },
      {
        messages: [
          { role: 'developer', content: 'use metric units' },
          user([
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER', filename: 'a.pdf' } },
          ]),
        ],
      },
    ],
    [
      'an earlier output message, its function calls and their outputs: one assistant message, then tool messages',
      {
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'weather in Oslo and Rome?' }] },
          { type: 'reasoning', id: 'rs_1', summary: [] },
          { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
          { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' },
          { type: 'function_call', call_id: 'call_2', name: 'weather', arguments: '{"city":"Rome"}' },
          { type: 'function_call_output', call_id: 'call_1', output: '3°C' },
          { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '19°C' }] },
        ],
        tools: [{ type: 'function', name: 'weather', description: 'Weather by city', parameters: { type: 'object' }, strict: true }],
        tool_choice: { type: 'function', name: 'weather' },
        parallel_tool_calls: true,
      },
      {
        messages: weatherExchange(['call_1', 'call_2'], ['3°C', '19°C']),
        tools: [{ type: 'function', function: { name: 'weather', description: 'Weather by city', parameters: { type: 'object' }, strict: true } }],
        tool_choice: { type: 'function', function: { name: 'weather' } },
        parallel_tool_calls: true,
      },
    ],
    [
      'function calls alone make an assistant message with null content',
      { input: [{ role: 'user', content: 'go' }, { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c1', output: 'ok' }] },
      { messages: [user('go'), { role: 'assistant', content: null, tool_calls: [toolCall('c1', 'f', '{}')] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }] },
    ],
    [
      'text.format json_schema → response_format; reasoning.effort, user, verbosity',
      { input: 'x', text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true }, verbosity: 'low' }, reasoning: { effort: 'low' }, user: 'u-1' },
      { response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } }, verbosity: 'low', reasoning_effort: 'low', user: 'u-1' },
    ],
    ['text.format json_object', { input: 'x', text: { format: { type: 'json_object' } } }, { response_format: { type: 'json_object' } }],
    ['store: false is fine', { input: 'x', store: false }, { messages: [user('x')] }],
    ['MoMA routing controls ride along under moma', { input: 'x', moma: { mode: 'quality' } }, { moma: { mode: 'quality' } }],
  ];
  itTranslates('responses', responsesToChat, cases);

  it('wire responses - the echo carries what the Response object repeats', () => {
    const { echo, stream } = responsesToChat({ input: 'x', instructions: 'i', max_output_tokens: 9, temperature: 1, metadata: { k: 'v' }, tools: [{ type: 'function', name: 'f' }] });
    expect(stream).toBe(false);
    expect(echo).toMatchObject({
      instructions: 'i',
      max_output_tokens: 9,
      temperature: 1,
      top_p: null,
      metadata: { k: 'v' },
      tool_choice: 'auto',
      parallel_tool_calls: true,
      tools: [{ type: 'function', name: 'f' }],
      text: { format: { type: 'text' } },
    });
  });

  const errors: Array<[string, unknown, string, string]> = [
    ['previous_response_id (stateful)', { input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id', 'stateless'],
    ['store: true (stateful)', { input: 'x', store: true }, 'store', 'store: true is not supported'],
    ['conversation (stateful)', { input: 'x', conversation: 'conv_1' }, 'conversation', 'stateless'],
    ['background (stored to be polled)', { input: 'x', background: true }, 'background', 'stores no responses'],
    ['a stored prompt', { prompt: { id: 'pmpt_1' } }, 'prompt', 'stored prompt'],
    ['the web_search built-in tool', { input: 'x', tools: [{ type: 'web_search' }] }, 'tools.0.type', 'built-in tool "web_search"'],
    ['the file_search built-in tool', { input: 'x', tools: [{ type: 'file_search', vector_store_ids: ['v'] }] }, 'tools.0.type', 'built-in tool "file_search"'],
    ['a built-in tool choice', { input: 'x', tool_choice: { type: 'web_search_preview' } }, 'tool_choice', 'built-in tools'],
    ['an item reference (stateful)', { input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input.0', 'item references'],
    ['a built-in tool\'s item', { input: [{ type: 'web_search_call', id: 'ws_1' }] }, 'input.0.type', '"web_search_call"'],
    ['no input', {}, 'input', 'required'],
    ['empty input list', { input: [] }, 'input', 'required'],
    ['an unknown role', { input: [{ role: 'robot', content: 'x' }] }, 'input.0.role', '"robot"'],
    ['an image by file id', { input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }] }, 'input.0.content.0.file_id', 'file id'],
    ['an unknown part type', { input: [{ role: 'user', content: [{ type: 'input_audio' }] }] }, 'input.0.content.0.type', 'input_text'],
    ['a function call without call_id', { input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input.0.call_id', 'non-empty'],
    ['temperature above 2', { input: 'x', temperature: 3 }, 'temperature', '[0, 2]'],
    ['max_output_tokens 0', { input: 'x', max_output_tokens: 0 }, 'max_output_tokens', '[1,'],
    ['a json_schema format without a name', { input: 'x', text: { format: { type: 'json_schema', schema: {} } } }, 'text.format.name', 'non-empty'],
  ];
  itRefuses('responses', responsesToChat, errors);
});

// ---------------------------------------------------------------------------------------------------------------
// chat → Responses

describe('wire responses - answer to Response', () => {
  const echo = responsesToChat({ input: 'x', instructions: 'be brief' }).echo;
  const ctx = { id: 'resp_abc', createdAt: 1700000000, model: 'fallback-model', echo, usage: { promptTokens: 7, completionTokens: 3 } };
  const cases: Array<[string, Json, Json]> = [
    [
      'text: one completed message item, usage, the echoed request',
      completion({ content: 'Hello.' }, 'stop'),
      {
        id: 'resp_abc',
        object: 'response',
        created_at: 1700000000,
        status: 'completed',
        model: 'gpt-x',
        instructions: 'be brief',
        store: false,
        error: null,
        incomplete_details: null,
        output: [{ id: 'msg_abc', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello.', annotations: [] }] }],
        usage: { input_tokens: 10, output_tokens: 4, total_tokens: 14, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
      },
    ],
    [
      'tool calls: function_call items after the text',
      completion({ content: 'Checking.', tool_calls: [toolCall('call_1', 'weather', '{"city":"Oslo"}')] }, 'tool_calls'),
      {
        status: 'completed',
        output: [
          { type: 'message', content: [{ type: 'output_text', text: 'Checking.' }] },
          { id: 'fc_abc_0', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' },
        ],
      },
    ],
    [
      'tool calls only: no message item',
      completion({ content: null, tool_calls: [toolCall('c', 'f', '{}')] }, 'tool_calls'),
      { output: [{ type: 'function_call', call_id: 'c' }] },
    ],
    ['length → incomplete (max_output_tokens)', completion({ content: 'Hel' }, 'length'), { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [{ status: 'incomplete' }] }],
    ['a refusal → a refusal part', completion({ content: null, refusal: 'I can\'t help with that.' }, 'stop'), { output: [{ content: [{ type: 'refusal', refusal: 'I can\'t help with that.' }] }] }],
    [
      'no model, no usage (an agent answered): the context\'s',
      { choices: [{ index: 0, message: { content: 'hi' }, finish_reason: 'stop' }] },
      { model: 'fallback-model', usage: { input_tokens: 7, output_tokens: 3, total_tokens: 10 } },
    ],
  ];
  for (const [name, input, expected] of cases) it(`wire responses - ${name}`, () => expect(chatToResponse(input, ctx)).toMatchObject(expected));
});

describe('wire responses - stream', () => {
  const echo = responsesToChat({ input: 'x' }).echo;
  const types = (events: SseEvent[]) => events.map((e) => e.event);

  it('wire responses - text: created, in_progress, item and part added, deltas, done events, completed; sequence numbers count up', () => {
    const events = translateStream(new ResponsesStream({ id: 'resp_1', createdAt: 1, echo }), HELLO_CHUNKS, { promptTokens: 5, completionTokens: 2 }, MOMA_EXTRA);
    expect(types(events)).toEqual(responsesTextEventTypes(2));
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.every((e) => e.data.type === e.event)).toBe(true);
    expect(events[0]!.data.response).toMatchObject({ id: 'resp_1', status: 'in_progress', model: 'gpt-x', output: [], moma: { decision: 'd' } });
    expect(events[4]!.data).toMatchObject({ item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hel' });
    expect(events[6]!.data).toMatchObject({ text: 'Hello' });
    const done = events.at(-1)!.data.response as Json;
    expect(done).toMatchObject({
      status: 'completed',
      output: [{ id: 'msg_1', type: 'message', status: 'completed', content: [{ type: 'output_text', text: 'Hello' }] }],
      usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
      moma: { usage: 'u' },
    });
  });

  it('wire responses - text then a function call: the message is done before the call item opens', () => {
    const events = translateStream(new ResponsesStream({ id: 'resp_1', createdAt: 1, echo }), [...CHECKING_OSLO_CHUNKS, chunk({}, 'tool_calls')], undefined);
    expect(types(events).slice(2)).toEqual([
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events[8]!.data).toMatchObject({ output_index: 1, item: { type: 'function_call', status: 'in_progress', call_id: 'call_a', name: 'weather', arguments: '' } });
    expect(events[11]!.data).toMatchObject({ output_index: 1, arguments: '{"city":"Oslo"}' });
    expect((events.at(-1)!.data.response as Json).output).toMatchObject([
      { type: 'message', content: [{ text: 'Checking.' }] },
      { type: 'function_call', call_id: 'call_a', arguments: '{"city":"Oslo"}', status: 'completed' },
    ]);
  });

  it('wire responses - a length stop ends with response.incomplete', () => {
    const s = new ResponsesStream({ id: 'resp_1', createdAt: 1, echo });
    const events = [...s.start('m'), ...s.text('Hel'), ...s.chunk(chunk({}, 'length')), ...s.end(undefined)];
    expect(events.at(-1)!.event).toBe('response.incomplete');
    expect(events.at(-1)!.data.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
  });

  it('wire responses - an error after the start is an error event with the next sequence number', () => {
    const s = new ResponsesStream({ id: 'resp_1', createdAt: 1, echo });
    s.start('m');
    expect(s.error('unavailable', 'provider down')).toEqual([{ event: 'error', data: { type: 'error', sequence_number: 2, code: 'unavailable', message: 'provider down', param: null } }]);
  });
});
