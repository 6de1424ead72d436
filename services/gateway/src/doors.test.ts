// The translated doors (POST /v1/messages, POST /v1/responses) and GET /v1/models/{id}, on a gateway over stand-in
// stages (MemoryBus) and a stand-in executor that answers like the real one does for a request with a body: the
// provider's chunks as `chunk` events when streaming, its whole JSON as `body` on the usage event when not, and an
// agent's text as `delta` events. The executor sees the chat body the door made; the client sees its own API's shapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { responsesTextEventTypes } from '@moma/core/testing';
import { MemoryBus, MomaError, serveStage } from '@moma/platform';
import {
  DecideResponse,
  IntentStageDefinition,
  OrchestratorStageDefinition,
  type ChatMessage,
  type ExecuteRequest,
  type ExecuteResponse,
} from '@moma/proto';
import type { GatewayHandle } from './app.ts';
import { noAgents, postJson, serveScoring, startStandInGateway, type StandInGateway } from './test-support.ts';

type Json = Record<string, any>;

let gw: GatewayHandle;
let standIn: StandInGateway;
const executed: ExecuteRequest[] = [];
const sessions = new Map<string, ChatMessage[]>();

async function startStages(b: MemoryBus): Promise<void> {
  await serveStage(b, IntentStageDefinition, {
    classify: async () => ({ categories: [{ category: 'general', score: 0.8 }], candidates: [], inScope: false, threshold: 0.5 }),
  });
  await serveScoring(b, 'org/m-small');
  await serveStage(b, OrchestratorStageDefinition, {
    createSession: async () => {
      const sessionId = `s-${sessions.size + 1}`;
      sessions.set(sessionId, []);
      return { sessionId };
    },
    decide: async (req) => {
      const history = sessions.get(req.sessionId);
      if (req.sessionId !== '' && !history) throw MomaError.notFound(`unknown session ${req.sessionId}`);
      return DecideResponse.fromPartial({ fsmState: 'llm', reason: 'no agent fits', history: [...(history ?? [])] });
    },
    recordTurn: async (req) => {
      if (!req.failed) sessions.get(req.sessionId)?.push(req.question!, req.reply!);
      return { fsmState: 'llm', version: 2 };
    },
    ...noAgents,
  });
}

const EMPTY = { agentState: '', agentContextId: '', agentTaskId: '', text: '', body: Buffer.alloc(0), headers: {} };
const ev = (e: Partial<ExecuteResponse>): ExecuteResponse => ({ ...EMPTY, ...e }) as ExecuteResponse;

/** A provider's answer, as the stand-in plans it from the forwarded chat body. */
interface Plan {
  text: string;
  tool?: { id: string; name: string; args: string };
  finish: string;
  /** A server that names the stop string it met (vLLM's `stop_reason`). */
  stopReason?: string;
}

function plan(body: Json): Plan {
  const messages = body.messages as Json[];
  const last = messages.at(-1)!;
  const question = [...messages].reverse().find((m) => m.role === 'user');
  const q = typeof question?.content === 'string' ? question.content : (question?.content as Json[]).map((p) => p.text ?? '').join(' ');
  if (last.role === 'tool') return { text: `tool said: ${last.content}`, finish: 'stop' };
  if (Array.isArray(body.tools) && body.tools.length > 0 && body.tool_choice !== 'none') {
    return { text: '', tool: { id: 'call_7', name: body.tools[0].function.name, args: JSON.stringify({ q }) }, finish: 'tool_calls' };
  }
  if (q.includes('stop here')) return { text: 'up to the', finish: 'stop', stopReason: 'STOP' };
  if (q.includes('cut short')) return { text: 'Once upon', finish: 'length' };
  return { text: 'hello world', finish: 'stop' };
}

const executor = {
  execute: (call: grpc.ServerWritableStream<ExecuteRequest, ExecuteResponse>) => {
    executed.push(call.request);
    const target = call.request.decision!.target!;
    const body = JSON.parse(Buffer.from(call.request.body).toString('utf8')) as Json;
    const q = call.request.messages.at(-1)?.content ?? '';
    const usage = { promptTokens: 11, completionTokens: 3, costUsd: 0.001, latencyMs: 1, servedBy: target, failed: [] };
    if (q.includes('fail-first')) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'all 2 target(s) failed: provider down' });
      return;
    }
    if (q.includes('reject-400')) {
      const metadata = new grpc.Metadata();
      metadata.set('moma-upstream-status', '400');
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'provider p: HTTP 400: Invalid schema for function', metadata });
      return;
    }
    if (q.includes('as an agent')) {
      for (const d of ['agent ', 'says hi']) call.write(ev({ delta: d, agentState: 'completed' }));
      call.write(ev({ usage, agentState: 'completed', text: 'agent says hi' }));
      call.end();
      return;
    }
    const p = plan(body);
    const head = { id: 'chatcmpl-1', created: 1, model: `${target.id}-2025` };
    if (body.stream !== true) {
      const message = p.tool
        ? { role: 'assistant', content: null, tool_calls: [{ id: p.tool.id, type: 'function', function: { name: p.tool.name, arguments: p.tool.args } }] }
        : { role: 'assistant', content: p.text };
      const json = {
        ...head,
        object: 'chat.completion',
        choices: [{ index: 0, message, finish_reason: p.finish, ...(p.stopReason ? { stop_reason: p.stopReason } : {}) }],
        usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25, prompt_tokens_details: { cached_tokens: 4 } },
      };
      call.write(ev({ usage, text: p.text, body: Buffer.from(JSON.stringify(json)), headers: { 'x-request-id': 'req_9' } }));
      call.end();
      return;
    }
    const chunk = (delta: Json, finish: string | null = null, extra: Json = {}) =>
      call.write(ev({ chunk: Buffer.from(JSON.stringify({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish, ...extra }] })) }));
    if (p.tool) {
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: p.tool.id, type: 'function', function: { name: p.tool.name, arguments: '' } }] });
      for (const piece of p.tool.args.match(/[\s\S]{1,6}/g)!) chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
    } else {
      chunk({ role: 'assistant', content: '' });
      for (const piece of p.text.match(/\S+\s*/g)!) chunk({ content: piece });
    }
    if (q.includes('fail-mid')) {
      setTimeout(() => call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'stream broke: provider down' }), 5);
      return;
    }
    chunk({}, p.finish, p.stopReason ? { stop_reason: p.stopReason } : {});
    call.write(ev({ usage, text: p.text }));
    call.end();
  },
};

beforeAll(async () => {
  standIn = await startStandInGateway(startStages, executor);
  gw = standIn.gw;
});

afterAll(async () => {
  await standIn?.stop();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) => postJson(gw.httpUrl, path, body, headers);

/** The chat body the executor was given for the last request. */
const forwarded = (): Json => JSON.parse(Buffer.from(executed.at(-1)!.body).toString('utf8')) as Json;

/** Named SSE events: `event: <name>\ndata: <json>`. */
async function sse(res: Response): Promise<Array<{ event: string; data: Json }>> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))!.slice(7);
      const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6)) as Json;
      return { event, data };
    });
}

const user = (content: unknown) => ({ role: 'user', content });
/** The chat body a door makes of a "be brief" system prompt (or instructions) and "hi there", with `fields` beside. */
const briefHiThere = (fields: Json): Json => ({ model: 'moma/auto', messages: [{ role: 'system', content: 'be brief' }, user('hi there')], ...fields });
const weatherTool = { name: 'weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } };

describe('gateway doors - GET /v1/models/{id}', () => {
  const cases: Array<[string, string, number, Json]> = [
    ['a routable model', 'm-large', 200, { id: 'm-large', object: 'model', owned_by: 'p', pricing: { input_per_mtok: 5, output_per_mtok: 15 } }],
    ['moma/auto, its slash as is', 'moma/auto', 200, { id: 'moma/auto', object: 'model', owned_by: 'moma' }],
    ['moma/auto, its slash encoded (as the openai SDK sends it)', 'moma%2Fauto', 200, { id: 'moma/auto' }],
    ['a model id with an organisation path', 'org/m-small', 200, { id: 'org/m-small' }],
  ];
  for (const [name, id, status, body] of cases) {
    it(`gateway doors - models/{id}: ${name}`, async () => {
      const res = await fetch(`${gw.httpUrl}/v1/models/${id}`);
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject(body);
    });
  }

  it('gateway doors - models/{id}: the entry is the one GET /v1/models lists', async () => {
    const list = (await (await fetch(`${gw.httpUrl}/v1/models`)).json()) as Json;
    for (const entry of list.data) expect(await (await fetch(`${gw.httpUrl}/v1/models/${encodeURIComponent(entry.id)}`)).json()).toEqual(entry);
  });

  it('gateway doors - models/{id}: an unknown model is a 404, OpenAI-shaped', async () => {
    const res = await fetch(`${gw.httpUrl}/v1/models/gpt-9`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as Json;
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'not_found', param: 'model' });
    expect(body.error.message).toContain('"gpt-9"');
  });
});

describe('gateway doors - POST /v1/messages (Anthropic)', () => {
  it('gateway doors - messages: a text answer as Anthropic\'s message, the decision in headers and moma', async () => {
    const res = await post('/v1/messages', {
      model: 'moma/auto',
      max_tokens: 100,
      system: 'be brief',
      temperature: 0.5,
      top_k: 5,
      metadata: { user_id: 'u-1' },
      messages: [user('hi there')],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-moma-target')).toBe('llm:m-large');
    expect(res.headers.get('x-moma-served-by')).toBe('llm:m-large');
    expect(res.headers.get('x-request-id')).toBe('req_9');
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'm-large-2025',
      content: [{ type: 'text', text: 'hello world' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 16, output_tokens: 5, cache_read_input_tokens: 4 },
    });
    expect(body.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(body.moma.decision.target).toBe('llm:m-large');
    expect(body.moma.usage.served_by).toBe('llm:m-large');
    // What the provider was sent: the chat body the door made, streaming off.
    expect(forwarded()).toEqual(briefHiThere({ max_completion_tokens: 100, temperature: 0.5, top_k: 5, user: 'u-1' }));
    expect(executed.at(-1)!.stream).toBe(false);
    expect(executed.at(-1)!.maxTokens).toBe(100);
  });

  it('gateway doors - messages: a tool call is a tool_use block with stop_reason tool_use', async () => {
    const res = await post('/v1/messages', { model: 'm-large', max_tokens: 100, tools: [weatherTool], messages: [user('weather in Oslo?')] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.stop_reason).toBe('tool_use');
    expect(body.content).toEqual([{ type: 'tool_use', id: 'call_7', name: 'weather', input: { q: 'weather in Oslo?' } }]);
    expect(forwarded().tools).toEqual([{ type: 'function', function: { name: 'weather', description: 'Weather by city', parameters: weatherTool.input_schema } }]);
  });

  it('gateway doors - messages: a tool_result goes to the provider as a tool message and its answer comes back', async () => {
    const res = await post('/v1/messages', {
      model: 'moma/auto',
      max_tokens: 100,
      tools: [weatherTool],
      messages: [
        user('weather in Oslo?'),
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_7', name: 'weather', input: { city: 'Oslo' } }] },
        user([{ type: 'tool_result', tool_use_id: 'call_7', content: '3°C' }]),
      ],
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).content).toEqual([{ type: 'text', text: 'tool said: 3°C' }]);
    expect(forwarded().messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_7', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_7', content: '3°C' },
    ]);
  });

  it('gateway doors - messages: an image block reaches the provider as an image_url part', async () => {
    const res = await post('/v1/messages', {
      model: 'moma/auto',
      max_tokens: 10,
      messages: [user([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }, { type: 'text', text: 'what is it?' }])],
    });
    expect(res.status).toBe(200);
    expect(forwarded().messages[0].content[0]).toEqual({ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } });
  });

  it('gateway doors - messages: stop_sequences become stop; a stop the server names is stop_sequence', async () => {
    const res = await post('/v1/messages', { model: 'moma/auto', max_tokens: 10, stop_sequences: ['STOP'], messages: [user('stop here please')] });
    const body = (await res.json()) as Json;
    expect(forwarded().stop).toEqual(['STOP']);
    expect(body).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'STOP' });
  });

  it('gateway doors - messages: an agent\'s answer (no provider JSON) is a text message with the executor\'s usage', async () => {
    const res = await post('/v1/messages', { model: 'moma/auto', max_tokens: 10, messages: [user('answer as an agent')] });
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ model: 'm-large', content: [{ type: 'text', text: 'agent says hi' }], stop_reason: 'end_turn', usage: { input_tokens: 11, output_tokens: 3 } });
    expect(body.moma.agent_state).toBe('completed');
  });

  it('gateway doors - messages: a session id in the header is used and shown', async () => {
    const sid = ((await (await post('/v1/sessions', {})).json()) as Json).session_id as string;
    const res = await post('/v1/messages', { model: 'moma/auto', max_tokens: 10, messages: [user('remember me')] }, { 'x-moma-session-id': sid });
    expect(res.headers.get('x-moma-session-id')).toBe(sid);
    expect(((await res.json()) as Json).moma.decision.session_id).toBe(sid);
    expect(sessions.get(sid)!.map((m) => m.content)).toEqual(['remember me', 'hello world']);
  });

  it('gateway doors - messages stream: Anthropic\'s event sequence, the decision on message_start, usage on message_delta', async () => {
    const res = await post('/v1/messages', { model: 'moma/auto', max_tokens: 100, stream: true, messages: [user('stream please')], moma: { mode: 'cost' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-moma-mode')).toBe('cost');
    const events = await sse(res);
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events.every((e) => e.data.type === e.event)).toBe(true);
    expect(events[0]!.data.message).toMatchObject({ type: 'message', role: 'assistant', model: 'm-large-2025', content: [], moma: { decision: { target: 'llm:m-large', mode: 'cost' } } });
    expect(events.filter((e) => e.data.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('')).toBe('hello world');
    expect(events[5]!.data).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 11, output_tokens: 3 }, moma: { usage: { served_by: 'llm:m-large' } } });
    expect(forwarded()).toMatchObject({ stream: true });
    expect(forwarded().moma).toBeUndefined();
  });

  it('gateway doors - messages stream: a tool call streams as a tool_use block of input_json_delta pieces', async () => {
    const res = await post('/v1/messages', { model: 'moma/auto', max_tokens: 100, stream: true, tools: [weatherTool], messages: [user('weather in Rome?')] });
    const events = await sse(res);
    const start = events.find((e) => e.event === 'content_block_start')!;
    expect(start.data.content_block).toEqual({ type: 'tool_use', id: 'call_7', name: 'weather', input: {} });
    const json = events.filter((e) => e.data.delta?.type === 'input_json_delta').map((e) => e.data.delta.partial_json).join('');
    expect(JSON.parse(json)).toEqual({ q: 'weather in Rome?' });
    expect(events.find((e) => e.event === 'message_delta')!.data.delta.stop_reason).toBe('tool_use');
  });

  it('gateway doors - messages stream: an agent\'s deltas stream as one text block', async () => {
    const events = await sse(await post('/v1/messages', { model: 'moma/auto', max_tokens: 10, stream: true, messages: [user('answer as an agent')] }));
    expect(events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(events[0]!.data.message.model).toBe('m-large');
  });

  it('gateway doors - messages stream: a stream that breaks midway ends with Anthropic\'s error event', async () => {
    const res = await post('/v1/messages', { model: 'moma/auto', max_tokens: 10, stream: true, messages: [user('fail-mid now')] });
    expect(res.status).toBe(200);
    const events = await sse(res);
    expect(events.some((e) => e.data.delta?.text === 'hello ')).toBe(true);
    expect(events.at(-1)).toEqual({ event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: expect.stringContaining('stream broke') } } });
  });

  const errors: Array<[string, unknown, number, string, RegExp]> = [
    ['no max_tokens', { model: 'moma/auto', messages: [user('x')] }, 400, 'invalid_request_error', /max_tokens: required/],
    ['a server tool', { model: 'moma/auto', max_tokens: 5, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [user('x')] }, 400, 'invalid_request_error', /server tool/],
    ['an unknown model', { model: 'claude-9', max_tokens: 5, messages: [user('x')] }, 404, 'not_found_error', /unknown model "claude-9"/],
    ['an unknown mode', { model: 'moma/auto', max_tokens: 5, messages: [user('x')], moma: { mode: 'fastest' } }, 400, 'invalid_request_error', /unknown mode/],
    ['a provider that refuses the request (its 400)', { model: 'moma/auto', max_tokens: 5, messages: [user('reject-400')] }, 400, 'invalid_request_error', /Invalid schema/],
    ['an execution that fails', { model: 'moma/auto', max_tokens: 5, messages: [user('fail-first')] }, 503, 'overloaded_error', /provider down/],
    ['a streamed request that fails before its first byte', { model: 'moma/auto', max_tokens: 5, stream: true, messages: [user('fail-first')] }, 503, 'overloaded_error', /provider down/],
    ['malformed JSON', '{"model": ', 400, 'invalid_request_error', /not valid JSON/],
  ];
  for (const [name, body, status, type, message] of errors) {
    it(`gateway doors - messages: ${name} → ${status} ${type}, Anthropic-shaped`, async () => {
      const res = await post('/v1/messages', body);
      expect(res.status).toBe(status);
      // Decided, then failed: the answer still says what was chosen.
      if (status === 503) expect(res.headers.get('x-moma-target')).toBe('llm:m-large');
      const json = (await res.json()) as Json;
      expect(json.type).toBe('error');
      expect(json.error.type).toBe(type);
      expect(json.error.message).toMatch(message);
    });
  }

  it('gateway doors - messages: the chat door keeps its OpenAI-shaped errors', async () => {
    const res = await post('/v1/chat/completions', '{"messages": ');
    expect(((await res.json()) as Json).error.code).toBe('invalid_json');
  });
});

describe('gateway doors - POST /v1/responses (OpenAI Responses)', () => {
  it('gateway doors - responses: string input → a Response with one output message, echo and moma', async () => {
    const res = await post('/v1/responses', { model: 'moma/auto', input: 'hi there', instructions: 'be brief', max_output_tokens: 50, temperature: 0.3, metadata: { k: 'v' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-moma-target')).toBe('llm:m-large');
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({
      object: 'response',
      status: 'completed',
      model: 'm-large-2025',
      instructions: 'be brief',
      max_output_tokens: 50,
      temperature: 0.3,
      metadata: { k: 'v' },
      store: false,
      output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hello world', annotations: [] }] }],
      usage: { input_tokens: 20, output_tokens: 5, total_tokens: 25, input_tokens_details: { cached_tokens: 4 } },
    });
    expect(body.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(body.moma.decision.target).toBe('llm:m-large');
    expect(forwarded()).toEqual(briefHiThere({ max_completion_tokens: 50, temperature: 0.3 }));
  });

  it('gateway doors - responses: a function tool call is a function_call output item', async () => {
    const res = await post('/v1/responses', { input: 'weather in Oslo?', tools: [{ type: 'function', name: 'weather', parameters: { type: 'object' } }] });
    const body = (await res.json()) as Json;
    expect(body.output).toEqual([{ id: expect.stringMatching(/^fc_/), type: 'function_call', status: 'completed', call_id: 'call_7', name: 'weather', arguments: '{"q":"weather in Oslo?"}' }]);
    expect(body.tools).toEqual([{ type: 'function', name: 'weather', parameters: { type: 'object' } }]);
  });

  it('gateway doors - responses: function_call and function_call_output items go to the provider as a tool exchange', async () => {
    const res = await post('/v1/responses', {
      input: [
        { role: 'user', content: 'weather in Oslo?' },
        { type: 'function_call', call_id: 'call_7', name: 'weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_7', output: '3°C' },
      ],
      tools: [{ type: 'function', name: 'weather', parameters: { type: 'object' } }],
    });
    expect(((await res.json()) as Json).output[0].content[0].text).toBe('tool said: 3°C');
    expect(forwarded().messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_7', content: '3°C' });
  });

  it('gateway doors - responses: a length stop is an incomplete response', async () => {
    const body = (await (await post('/v1/responses', { input: 'cut short', max_output_tokens: 2 })).json()) as Json;
    expect(body).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
  });

  it('gateway doors - responses stream: created … output_text.delta … completed, the decision on response.created', async () => {
    const res = await post('/v1/responses', { input: 'stream please', stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await sse(res);
    expect(events.map((e) => e.event)).toEqual(responsesTextEventTypes(2));
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0]!.data.response).toMatchObject({ status: 'in_progress', model: 'm-large-2025', moma: { decision: { target: 'llm:m-large' } } });
    expect(events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe('hello world');
    expect(events.at(-1)!.data.response).toMatchObject({
      status: 'completed',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'hello world' }] }],
      usage: { input_tokens: 11, output_tokens: 3 },
      moma: { usage: { served_by: 'llm:m-large' } },
    });
  });

  it('gateway doors - responses stream: a function call streams its arguments', async () => {
    const events = await sse(await post('/v1/responses', { input: 'weather in Rome?', stream: true, tools: [{ type: 'function', name: 'weather' }] }));
    expect(events.find((e) => e.event === 'response.output_item.added')!.data.item).toMatchObject({ type: 'function_call', call_id: 'call_7', name: 'weather' });
    const args = events.filter((e) => e.event === 'response.function_call_arguments.delta').map((e) => e.data.delta).join('');
    expect(JSON.parse(args)).toEqual({ q: 'weather in Rome?' });
    expect(events.find((e) => e.event === 'response.function_call_arguments.done')!.data.arguments).toBe(args);
  });

  it('gateway doors - responses stream: a stream that breaks midway ends with an error event', async () => {
    const events = await sse(await post('/v1/responses', { input: 'fail-mid now', stream: true }));
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { type: 'error', code: 'unavailable', message: expect.stringContaining('stream broke') } });
  });

  const errors: Array<[string, unknown, number, RegExp]> = [
    ['previous_response_id', { input: 'x', previous_response_id: 'resp_1' }, 400, /previous_response_id: .*stateless/],
    ['store: true', { input: 'x', store: true }, 400, /store: true is not supported/],
    ['a built-in tool', { input: 'x', tools: [{ type: 'web_search' }] }, 400, /built-in tool "web_search"/],
    ['no input', { model: 'moma/auto' }, 400, /input: required/],
    ['an unknown model', { model: 'gpt-9', input: 'x' }, 404, /unknown model "gpt-9"/],
    ['a provider that refuses the request', { input: 'reject-400' }, 400, /Invalid schema/],
  ];
  for (const [name, body, status, message] of errors) {
    it(`gateway doors - responses: ${name} → ${status}, OpenAI-shaped`, async () => {
      const res = await post('/v1/responses', body);
      expect(res.status).toBe(status);
      const json = (await res.json()) as Json;
      expect(json.error.message).toMatch(message);
      expect(typeof json.error.type).toBe('string');
    });
  }

  it('gateway doors - responses: stored responses cannot be retrieved (404 saying so)', async () => {
    const res = await fetch(`${gw.httpUrl}/v1/responses/resp_123`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as Json).error.message).toContain('stores no responses');
  });
});
