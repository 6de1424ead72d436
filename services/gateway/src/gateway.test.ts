// The gateway against stand-in stages on a MemoryBus and a real gRPC executor stand-in: both doors, the decision in
// body and headers, sessions across turns, and the error mapping. (The real services are exercised in test/e2e.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { targetText } from '@moma/core/rules';
import { Code, MemoryBus, MomaError, serveStage } from '@moma/platform';
import {
  DecideResponse,
  IntentStageDefinition,
  OrchestratorStageDefinition,
  ChatRequest,
  RouterClient,
  type ChatMessage,
  type ChatResponse,
  type ExecuteRequest,
} from '@moma/proto';
import type { GatewayHandle } from './app.ts';
import { noAgents, postJson, serveScoring, startStandInGateway, type StandInGateway } from './test-support.ts';

let gw: GatewayHandle;
let standIn: StandInGateway;
let grpcClient: RouterClient;
const executed: ExecuteRequest[] = [];
const sessions = new Map<string, ChatMessage[]>();
/** Every decide/record the stand-in orchestrator saw, to check what a stateless call asks to store. */
const stageCalls: Array<{ subject: string; sessionId: string }> = [];
let nextSession = 0;

async function startStages(b: MemoryBus): Promise<void> {
  await serveStage(b, IntentStageDefinition, {
    classify: async (req) => ({
      categories: [{ category: req.text.includes('weather') ? 'weather' : 'general', score: 0.8 }],
      // A weather question has a (weak) agent candidate; everything else has none.
      candidates: req.text.includes('weather') ? [{ agentId: 'weather-bot', score: 0.2, category: 'weather' }] : [],
      inScope: false,
      threshold: 0.5,
    }),
  });
  await serveScoring(b, 'm-small');
  await serveStage(b, OrchestratorStageDefinition, {
    createSession: async (req) => {
      const sessionId = `s-${++nextSession}${req.tenant ? `-${req.tenant}` : ''}`;
      sessions.set(sessionId, []);
      return { sessionId };
    },
    decide: async (req) => {
      stageCalls.push({ subject: 'decide', sessionId: req.sessionId });
      if (req.sessionId === '') return DecideResponse.fromPartial({ fsmState: 'idle', reason: 'no agent fits', history: [] });
      const history = sessions.get(req.sessionId);
      if (!history) throw MomaError.notFound(`unknown session ${req.sessionId}`);
      return DecideResponse.fromPartial({ fsmState: 'llm', reason: 'no agent fits', history: [...history] });
    },
    recordTurn: async (req) => {
      stageCalls.push({ subject: 'record', sessionId: req.sessionId });
      if (!req.failed) sessions.get(req.sessionId)?.push(req.question!, req.reply!);
      return { fsmState: 'llm', version: 2 };
    },
    ...noAgents,
  });
}

const executor = {
  execute: (call: grpc.ServerWritableStream<ExecuteRequest, unknown>) => {
    executed.push(call.request);
    const target = call.request.decision!.target;
    const asked = call.request.messages.at(-1)?.content ?? '';
    if (asked === 'fail-first') {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'all 2 target(s) failed: provider down' });
      return;
    }
    if (asked === 'fail-mid') {
      call.write({ delta: 'partial ', agentState: '', agentContextId: '', agentTaskId: '', text: '', body: Buffer.alloc(0), headers: {} });
      setTimeout(() => call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'stream broke: provider down' }), 5);
      return;
    }
    call.write({ delta: 'hello ', agentState: '', agentContextId: '', agentTaskId: '', text: '', body: Buffer.alloc(0), headers: {} });
    call.write({ delta: 'world', agentState: '', agentContextId: '', agentTaskId: '', text: '', body: Buffer.alloc(0), headers: {} });
    call.write({
      usage: { promptTokens: 3, completionTokens: 2, costUsd: 0.001, latencyMs: 1, servedBy: target, failed: [] },
      agentState: '',
      agentContextId: '',
      agentTaskId: '',
      text: '',
      body: Buffer.alloc(0),
      headers: {},
    });
    call.end();
  },
};

beforeAll(async () => {
  standIn = await startStandInGateway(startStages, executor);
  gw = standIn.gw;
  grpcClient = new RouterClient(gw.grpcAddr, grpc.credentials.createInsecure());
});

afterAll(async () => {
  grpcClient?.close();
  await standIn?.stop();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) => postJson(gw.httpUrl, path, body, headers);

const user = (content: string) => ({ role: 'user', content });

describe('gateway http - chat completions', () => {
  it('gateway http - answers with the decision in body and headers', async () => {
    const res = await post('/v1/chat/completions', { model: 'moma/auto', messages: [user('hi there')] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-moma-target')).toBe('llm:m-large');
    expect(res.headers.get('x-moma-mode')).toBe('balanced');
    // Stateless, and intent found no candidate: the orchestrator is skipped and the reason says so.
    expect(decodeURIComponent(res.headers.get('x-moma-reason')!)).toContain('no agent candidates');
    expect(res.headers.get('x-moma-router-version')).toBe('test-v1');
    const body = (await res.json()) as any;
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('m-large');
    expect(body.choices[0].message.content).toBe('hello world');
    expect(body.usage.total_tokens).toBe(5);
    expect(body.moma.decision.ranked.map((c: any) => c.target)).toEqual(['llm:m-large', 'llm:m-small']);
    // No session id given: stateless, so no session is named anywhere.
    expect(body.session_id).toBe('');
    expect(res.headers.get('x-moma-session-id')).toBeNull();
  });

  it('gateway http - streams OpenAI chunks with the decision first and [DONE] last', async () => {
    const res = await post('/v1/chat/completions', { messages: [user('stream please')], stream: true, moma: { mode: 'cost' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-moma-mode')).toBe('cost');
    const events = (await res.text()).split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as any);
    expect(chunks[0].moma.decision.target).toBe('llm:m-large');
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('hello world');
    expect(chunks.at(-1).usage.completion_tokens).toBe(2);
  });

  it('gateway http - a request without a session id is stateless: nothing created, nothing recorded', async () => {
    const before = { calls: stageCalls.length, sessions: sessions.size };
    const res = await post('/v1/chat/completions', { messages: [user('just once')] });
    expect(res.status).toBe(200);
    // No session and no agent candidate: not even the orchestrator's decide is asked.
    const calls = stageCalls.slice(before.calls);
    expect(calls).toEqual([]);
    expect(sessions.size).toBe(before.sessions);
  });

  it('gateway http - a stateless request with an agent candidate still asks the orchestrator', async () => {
    const before = stageCalls.length;
    const res = await post('/v1/chat/completions', { messages: [user('what is the weather in Oslo')] });
    expect(res.status).toBe(200);
    expect(stageCalls.slice(before)).toEqual([{ subject: 'decide', sessionId: '' }]);
  });

  it('gateway http - POST /v1/sessions creates a session (201) and returns its id', async () => {
    const res = await post('/v1/sessions', { tenant: 'acme' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { session_id: string };
    expect(body.session_id).toMatch(/^s-\d+-acme$/);
    expect(res.headers.get('x-moma-session-id')).toBe(body.session_id);
    expect(sessions.get(body.session_id)).toEqual([]);
    const bare = await fetch(`${gw.httpUrl}/v1/sessions`, { method: 'POST' });
    expect(bare.status).toBe(201);
    const bad = await post('/v1/sessions', { tenant: 7 });
    expect(bad.status).toBe(400);
  });

  it('gateway http - the next turn of a session carries the earlier turns to the executor', async () => {
    const created = (await (await post('/v1/sessions', {})).json()) as { session_id: string };
    const sid = created.session_id;
    const first = await post('/v1/chat/completions', { messages: [user('my name is Ada')] }, { 'x-moma-session-id': sid });
    expect(first.headers.get('x-moma-session-id')).toBe(sid);
    expect(((await first.json()) as any).session_id).toBe(sid);
    const second = await post('/v1/chat/completions', { messages: [user('what is my name?')] }, { 'x-moma-session-id': sid });
    expect(second.status).toBe(200);
    const last = executed.at(-1)!;
    expect(last.messages.map((m) => m.content)).toEqual(['my name is Ada', 'hello world', 'what is my name?']);
  });

  it('gateway http - a pinned model restricts the ranking to it', async () => {
    const res = await post('/v1/chat/completions', { model: 'm-small', messages: [user('x')] });
    expect(res.headers.get('x-moma-target')).toBe('llm:m-small');
  });
});

describe('gateway http - errors', () => {
  const cases: Array<[string, unknown, number, RegExp]> = [
    ['empty messages', { messages: [] }, 400, /at least one message/],
    ['last message not from the user', { messages: [{ role: 'assistant', content: 'x' }] }, 400, /last message/],
    ['unknown role', { messages: [{ role: 'robot', content: 'x' }] }, 400, /role/],
    ['unknown mode', { messages: [user('x')], moma: { mode: 'fastest' } }, 400, /unknown mode/],
    ['unknown model', { model: 'gpt-9', messages: [user('x')] }, 404, /unknown model "gpt-9"/],
    ['unknown session', { messages: [user('x')], session_id: 'nope-123' }, 404, /unknown session nope-123/],
    ['messages not an array', { messages: 'hi' }, 400, /messages/],
  ];
  for (const [name, body, status, message] of cases) {
    it(`gateway http - ${name} gets ${status} with an OpenAI-style error`, async () => {
      const res = await post('/v1/chat/completions', body);
      expect(res.status).toBe(status);
      const json = (await res.json()) as any;
      expect(json.error.message).toMatch(message);
      expect(typeof json.error.type).toBe('string');
      expect(typeof json.error.code).toBe('string');
    });
  }

  it('gateway http - malformed JSON gets 400', async () => {
    const res = await post('/v1/chat/completions', '{"messages": [');
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('invalid_json');
  });

  it('gateway http - an oversized body gets 413', async () => {
    const res = await post('/v1/chat/completions', { messages: [user('x'.repeat(70 * 1024))] });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('payload_too_large');
  });

  it('gateway http - an unknown route gets 404', async () => {
    const res = await fetch(`${gw.httpUrl}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toContain('/v1/nothing');
  });
});

describe('gateway - executor failures', () => {
  it('gateway http - a failed execution is a 503 with the executor\'s reason', async () => {
    const res = await post('/v1/chat/completions', { messages: [user('fail-first')] });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-moma-target')).toBe('llm:m-large');
    const body = (await res.json()) as any;
    expect(body.error.message).toContain('provider down');
    expect(body.error.code).toBe('unavailable');
  });

  it('gateway http - a stream that breaks midway ends with an error event and [DONE]', async () => {
    const res = await post('/v1/chat/completions', { messages: [user('fail-mid')], stream: true });
    expect(res.status).toBe(200);
    const events = (await res.text()).split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const parsed = events.slice(0, -1).map((e) => JSON.parse(e) as any);
    expect(parsed.some((c) => c.choices?.[0]?.delta?.content === 'partial ')).toBe(true);
    expect(parsed.at(-1).error.message).toContain('stream broke');
  });

  it('gateway grpc - Chat sends the decision, then the error status', async () => {
    const events: ChatResponse[] = [];
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const call = grpcClient.chat(ChatRequest.fromPartial({ sessionId: '', messages: [user('fail-mid')], switchTo: '', maxTokens: 0 }));
      call.on('data', (e: ChatResponse) => events.push(e));
      call.on('error', resolve);
    });
    expect(targetText(events[0]!.decision?.target)).toBe('llm:m-large');
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toContain('stream broke');
  });
});

describe('gateway http - route, models, health', () => {
  it('gateway http - /v1/route returns the decision only', async () => {
    const res = await post('/v1/route', { messages: [user('what is the weather')], moma: { mode: 'quality' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.decision.mode).toBe('quality');
    expect(body.decision.categories[0].category).toBe('weather');
    expect(res.headers.get('x-moma-target')).toBe(body.decision.target);
  });

  it('gateway http - /v1/models lists moma/auto and the models', async () => {
    const body = (await (await fetch(`${gw.httpUrl}/v1/models`)).json()) as any;
    expect(body.data.map((m: any) => m.id)).toEqual(['moma/auto', 'm-large', 'm-small']);
  });

  it('gateway http - /healthz is 200 when the stages answer', async () => {
    const res = await fetch(`${gw.httpUrl}/healthz`);
    expect(res.status).toBe(200);
  });
});

describe('gateway grpc - router', () => {
  it('gateway grpc - Route returns the decision', async () => {
    const res = await new Promise<any>((resolve, reject) =>
      grpcClient.route({ sessionId: '', messages: [user('hi')], switchTo: '' }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(targetText(res.decision.target)).toBe('llm:m-large');
    expect(res.decision.sessionId).toBe('');
  });

  it('gateway grpc - CreateSession returns a new session that Route then uses', async () => {
    const created = await new Promise<any>((resolve, reject) =>
      grpcClient.createSession({ tenant: '' }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(sessions.has(created.sessionId)).toBe(true);
    const res = await new Promise<any>((resolve, reject) =>
      grpcClient.route({ sessionId: created.sessionId, messages: [user('hi')], switchTo: '' }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(res.decision.sessionId).toBe(created.sessionId);
    expect(stageCalls.at(-1)).toEqual({ subject: 'decide', sessionId: created.sessionId });
    // A decision alone answers nothing: no question is stored without its reply.
    expect(sessions.get(created.sessionId)).toEqual([]);
  });

  it('gateway grpc - Chat streams decision, deltas, usage', async () => {
    const events: ChatResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = grpcClient.chat(ChatRequest.fromPartial({ sessionId: '', messages: [user('hi')], switchTo: '', maxTokens: 0 }));
      call.on('data', (e: ChatResponse) => events.push(e));
      call.on('error', reject);
      call.on('end', resolve);
    });
    expect(targetText(events[0]!.decision?.target)).toBe('llm:m-large');
    expect(events.filter((e) => e.delta !== undefined).map((e) => e.delta).join('')).toBe('hello world');
    expect(targetText(events.at(-1)!.usage?.servedBy)).toBe('llm:m-large');
  });

  it('gateway grpc - bad input gets INVALID_ARGUMENT with a message', async () => {
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      grpcClient.route({ sessionId: '', messages: [], switchTo: '' }, (e) => resolve(e!)),
    );
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/at least one message/);
  });

  it('gateway grpc - an unknown mode gets INVALID_ARGUMENT', async () => {
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      grpcClient.route({ sessionId: '', messages: [user('x')], switchTo: '', options: { mode: 9 as never, allowedModels: [], deniedModels: [], disableAgents: false, tenant: '', requires: [] } }, (e) => resolve(e!)),
    );
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
  });
});

describe('gateway grpc - health and reflection', () => {
  const require = createRequire(import.meta.url);
  const load = (file: string, includeDirs: string[] = []) =>
    grpc.loadPackageDefinition(protoLoader.loadSync(file, { includeDirs, keepCase: true, defaults: true, enums: String })) as any;

  it('gateway grpc - health reports SERVING for the router', async () => {
    const { grpc: g } = load(healthProtoPath);
    const client = new g.health.v1.Health(gw.grpcAddr, grpc.credentials.createInsecure());
    const res = await new Promise<any>((resolve, reject) =>
      client.Check({ service: 'moma.v1.Router' }, (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r))),
    );
    client.close();
    expect(res.status).toBe('SERVING');
  });

  it('gateway grpc - reflection lists the public services', async () => {
    const root = dirname(require.resolve('@grpc/reflection/package.json'));
    const { grpc: g } = load(join(root, 'build/proto/grpc/reflection/v1/reflection.proto'));
    const client = new g.reflection.v1.ServerReflection(gw.grpcAddr, grpc.credentials.createInsecure());
    const names = await new Promise<string[]>((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on('data', (r: any) => {
        resolve(r.list_services_response.service.map((s: any) => s.name));
        call.end();
      });
      call.on('error', reject);
      call.write({ list_services: '' });
    });
    client.close();
    expect(names).toEqual(expect.arrayContaining(['moma.v1.Router', 'moma.v1.AgentRegistry']));
  });
});
