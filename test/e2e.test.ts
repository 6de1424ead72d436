// End to end: the five services as separate processes on real NATS and Redis, a local OpenAI-compatible upstream
// standing in for the providers, and an OTLP receiver the services export to. Checked over gRPC and HTTP.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { targetText } from '@moma/core/rules';
import { ChatRequest, RouterClient, type ChatResponse, type CreateSessionResponse, type RouteResponse } from '@moma/proto';
import { startFakeOpenAI, startOtlpReceiver, testInfra, uniqueId, type FakeOpenAI, type OtlpReceiver, type ReceivedSpan } from '@moma/testkit';
import { dropKeys, startExtraGateway, startPrivateNats, startSystem, startTcpProxy, type PrivateNats, type System } from './support/system.ts';

const infra = await testInfra();
const user = (content: string) => ({ role: 'user', content });

interface SessionValue {
  history: Array<{ role: string; content: string }>;
}

describe.skipIf(!infra.ok)(`e2e - distributed system over NATS + Redis${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  let otlp: OtlpReceiver;
  let fake: FakeOpenAI;
  let sys: System;
  let nats: PrivateNats | undefined;
  let natsUrl = '';
  let redis: Redis;
  let router: RouterClient;
  const keyPrefix = `e2e-${uniqueId()}:`;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    fake = await startFakeOpenAI();
    nats = await startPrivateNats();
    natsUrl = nats?.url ?? infra.natsUrl;
    sys = await startSystem({
      natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix,
      otlpUrl: otlp.url,
      providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'] }],
    });
    redis = new Redis(infra.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
    router = new RouterClient(sys.grpcAddr, grpc.credentials.createInsecure());
  }, 90_000);

  afterAll(async () => {
    router?.close();
    await sys?.stop();
    await nats?.stop();
    redis?.disconnect();
    if (infra.ok) await dropKeys(infra.redisUrl, keyPrefix);
    await fake?.close();
    await otlp?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${sys.httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  async function session(id: string): Promise<SessionValue> {
    const raw = await redis.hget(`${keyPrefix}session:${id}`, 'd');
    expect(raw, `session ${id} in Redis`).toBeTruthy();
    return JSON.parse(raw!) as SessionValue;
  }

  async function newSession(): Promise<string> {
    const res = await post('/v1/sessions', {});
    expect(res.status).toBe(201);
    return ((await res.json()) as { session_id: string }).session_id;
  }

  it('e2e - a request without a session id is stateless: nothing is written to Redis', async () => {
    const before = await redis.keys(`${keyPrefix}session:*`);
    const res = await post('/v1/chat/completions', { messages: [user('A one-off question about rivers.')] });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(res.headers.get('x-moma-session-id')).toBeNull();
    expect(body.session_id).toBe('');
    expect(body.choices[0].message.content).toContain('A one-off question about rivers.');
    expect(await redis.keys(`${keyPrefix}session:*`)).toEqual(before);
  });

  it('e2e - POST /v1/sessions creates an empty session in Redis', async () => {
    const sid = await newSession();
    const stored = await session(sid);
    expect(stored.history).toEqual([]);
    expect(await redis.ttl(`${keyPrefix}session:${sid}`)).toBeGreaterThan(0);
  });

  it('e2e - http chat returns the decision in body and headers and writes the session to Redis', async () => {
    const sid = await newSession();
    const res = await post(
      '/v1/chat/completions',
      { model: 'moma/auto', messages: [user('What is the capital of France?')], moma: { mode: 'quality' } },
      { 'x-moma-session-id': sid },
    );
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    const target = res.headers.get('x-moma-target')!;
    expect(target).toMatch(/^llm:/);
    expect(res.headers.get('x-moma-mode')).toBe('quality');
    expect(decodeURIComponent(res.headers.get('x-moma-reason')!)).not.toBe('');
    expect(Number(res.headers.get('x-moma-predicted-quality'))).toBeGreaterThan(0);
    expect(body.moma.decision.target).toBe(target);
    expect(body.moma.decision.ranked.length).toBeGreaterThan(1);
    // The fake upstream answers "[<model>] <question>", so the answer proves which model served.
    expect(body.choices[0].message.content).toBe(`[${target.slice(4)}] What is the capital of France?`);
    expect(body.model).toBe(target.slice(4));

    expect(res.headers.get('x-moma-session-id')).toBe(sid);
    const stored = await session(sid);
    expect(stored.history.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(stored.history[1]!.content).toBe(body.choices[0].message.content);
  });

  it('e2e - the next turn reads the session back and sends the earlier turns to the provider', async () => {
    const sid = await newSession();
    const first = await post('/v1/chat/completions', { messages: [user('My favourite colour is teal.')], session_id: sid });
    expect(first.status).toBe(200);
    const before = fake.requests.length;
    const second = await post('/v1/chat/completions', { messages: [user('What is my favourite colour?')] }, { 'x-moma-session-id': sid });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-moma-session-id')).toBe(sid);
    const sent = fake.requests.slice(before).at(-1)!;
    expect(sent.messages.map((m) => m.content)).toEqual([
      'My favourite colour is teal.',
      expect.stringContaining('My favourite colour is teal.'),
      'What is my favourite colour?',
    ]);
    expect((await session(sid)).history).toHaveLength(4);
  });

  it('e2e - http streaming sends OpenAI chunks: decision first, answer, usage, [DONE]', async () => {
    const res = await post('/v1/chat/completions', { messages: [user('Stream a short answer about tides.')], stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const target = res.headers.get('x-moma-target')!;
    const events = (await res.text()).split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as any);
    expect(chunks[0].moma.decision.target).toBe(target);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe(`[${target.slice(4)}] Stream a short answer about tides.`);
    expect(chunks.at(-1).usage.completion_tokens).toBeGreaterThan(0);
  });

  it('e2e - grpc Chat with an OpenAI request forwards every field and streams the provider\'s own chunks', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const openai = { model: 'moma/auto', messages: [user('Weather in Oslo?')], tools, tool_choice: 'auto', seed: 7, user: 'grpc-client' };
    const events: ChatResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = router.chat(ChatRequest.fromPartial({ openaiRequest: Buffer.from(JSON.stringify(openai)), options: { disableAgents: true } }));
      call.on('data', (e: ChatResponse) => events.push(e));
      call.on('error', reject);
      call.on('end', resolve);
    });
    const sent = fake.requests.at(-1)!.body as Record<string, unknown>;
    expect(sent).toMatchObject({ tools, tool_choice: 'auto', seed: 7, user: 'grpc-client', stream: true });
    expect(sent.model).toBe(targetText(events[0]!.decision!.target).slice(4));
    const chunks = events.filter((e) => e.chunk !== undefined).map((e) => JSON.parse(e.chunk!.toString('utf8')) as any);
    const call = chunks.flatMap((c) => c.choices ?? []).map((c: any) => c.delta?.tool_calls?.[0]).find((t: any) => t?.function?.name);
    expect(call.function.name).toBe('get_weather');
    expect(chunks.some((c) => c.choices?.[0]?.finish_reason === 'tool_calls')).toBe(true);
  });

  it('e2e - grpc Route and Chat stream the decision and the answer', async () => {
    const routed = await new Promise<RouteResponse>((resolve, reject) =>
      router.route({ sessionId: '', messages: [user('Summarise the plot of Hamlet.')], switchTo: '' }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(targetText(routed.decision?.target)).toMatch(/^llm:/);
    const created = await new Promise<CreateSessionResponse>((resolve, reject) =>
      router.createSession({ tenant: '' }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    const events: ChatResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = router.chat(ChatRequest.fromPartial({ sessionId: created.sessionId, messages: [user('Summarise the plot of Hamlet.')], switchTo: '', maxTokens: 64 }));
      call.on('data', (e: ChatResponse) => events.push(e));
      call.on('error', reject);
      call.on('end', resolve);
    });
    const decision = events[0]!.decision!;
    expect(targetText(decision.target)).toBe(targetText(routed.decision!.target));
    expect(events.filter((e) => e.delta !== undefined).map((e) => e.delta).join('')).toBe(
      `[${targetText(decision.target).slice(4)}] Summarise the plot of Hamlet.`,
    );
    expect(targetText(events.at(-1)!.usage?.servedBy)).toBe(targetText(decision.target));
    expect(decision.sessionId).toBe(created.sessionId);
    expect((await session(created.sessionId)).history.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('e2e - when the first-ranked provider fails the executor falls back to the next model', async () => {
    const question = { messages: [user('Translate "good morning" into German.')], moma: { disable_agents: true } };
    const routed = (await (await post('/v1/route', question)).json()) as any;
    const [first, second] = routed.decision.ranked.map((c: any) => c.target.slice(4)) as string[];
    fake.setFailing([first!]);
    try {
      const res = await post('/v1/chat/completions', question);
      const body = (await res.json()) as any;
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(res.headers.get('x-moma-target')).toBe(`llm:${first}`);
      expect(res.headers.get('x-moma-served-by')).toBe(`llm:${second}`);
      expect(body.model).toBe(second);
      expect(body.moma.usage.failed).toContain(`llm:${first}`);
      expect(body.choices[0].message.content).toBe(`[${second}] Translate "good morning" into German.`);
    } finally {
      fake.setFailing([]);
    }
  });

  describe('e2e - bad input gets a clear error', () => {
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['empty messages', { messages: [] }, 400, /at least one message/],
      ['unknown mode', { messages: [user('hi')], moma: { mode: 'turbo' } }, 400, /unknown mode "turbo"/],
      ['unknown model', { model: 'no-such-model', messages: [user('hi')] }, 404, /unknown model "no-such-model"/],
      ['unknown session', { messages: [user('hi')], session_id: 'no-such-session-e2e' }, 404, /unknown session no-such-session-e2e/],
    ];
    for (const [name, body, status, message] of cases) {
      it(`e2e - ${name} → ${status}`, async () => {
        const res = await post('/v1/chat/completions', body);
        expect(res.status).toBe(status);
        expect(((await res.json()) as any).error.message).toMatch(message);
      });
    }

    it('e2e - oversized body → 413', async () => {
      const res = await post('/v1/chat/completions', { messages: [user('x'.repeat(1024 * 1024 + 10))] });
      expect(res.status).toBe(413);
    });

    it('e2e - grpc empty messages → INVALID_ARGUMENT', async () => {
      const err = await new Promise<grpc.ServiceError>((resolve) =>
        router.route({ sessionId: '', messages: [], switchTo: '' }, (e) => resolve(e!)),
      );
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/at least one message/);
    });

    it('e2e - grpc unknown session → NOT_FOUND', async () => {
      const err = await new Promise<grpc.ServiceError>((resolve) =>
        router.route({ sessionId: 'no-such-session-grpc', messages: [user('hi')], switchTo: '' }, (e) => resolve(e!)),
      );
      expect(err.code).toBe(grpc.status.NOT_FOUND);
    });
  });

  it('e2e - one request produces one trace with spans from all five services', async () => {
    // A turn of a session: every stage takes part (a stateless turn with no agent candidate skips the orchestrator).
    const sid = await newSession();
    const traceId = randomBytes(16).toString('hex');
    const res = await post(
      '/v1/chat/completions',
      { messages: [user('Trace this request, please.')] },
      { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, 'x-moma-session-id': sid },
    );
    expect(res.status).toBe(200);
    const services = ['gateway', 'intent', 'orchestrator', 'scoring', 'executor'];
    // Spans arrive in batches per service; wait until the trace is whole: all five services and one root.
    const roots = (spans: ReceivedSpan[]) => {
      const ids = new Set(spans.map((s) => s.spanId));
      return spans.filter((s) => !ids.has(s.parentSpanId));
    };
    const all = await otlp.waitFor((received) => {
      const mine = received.filter((s) => s.traceId === traceId);
      const names = new Set(mine.map((s) => s.serviceName));
      // The usage event's consumer (the orchestrator charging spend) is part of the same trace.
      return services.every((s) => names.has(s)) && roots(mine).length === 1 && mine.some((s) => s.name === 'process moma.events.usage');
    }, 20_000);
    const mine = all.filter((s) => s.traceId === traceId);
    expect(new Set(mine.map((s) => s.serviceName))).toEqual(new Set(services));
    // One tree: the only span whose parent is not in the trace is the gateway's (its parent is the client's span).
    expect(roots(mine).map((s) => s.serviceName)).toEqual(['gateway']);
    const byId = new Map(mine.map((s) => [s.spanId, s]));

    // The door's span: HTTP semantic conventions, GenAI attributes, the session, the decision (attributes + event).
    const door = mine.find((s) => s.serviceName === 'gateway' && s.kind === 2)!;
    expect(door.name).toBe('POST /v1/chat/completions');
    expect(door.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/chat/completions',
      'url.path': '/v1/chat/completions',
      'url.scheme': 'http',
      'http.response.status_code': 200,
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'moma/auto',
      'session.id': sid,
    });
    expect(door.attributes['server.port']).toBe(Number(new URL(sys.httpUrl).port));
    const body = (await res.json()) as { model: string; moma: { decision: { target: string } }; usage: { prompt_tokens: number; completion_tokens: number } };
    expect(`llm:${door.attributes['gen_ai.response.model']}`).toBe(body.moma.decision.target);
    expect(door.attributes['gen_ai.usage.input_tokens']).toBe(body.usage.prompt_tokens);
    expect(door.attributes['gen_ai.usage.output_tokens']).toBe(body.usage.completion_tokens);
    const decisionEvent = door.events.find((e) => e.name === 'moma.decision');
    expect(decisionEvent?.attributes).toMatchObject({ 'app.gateway.target_kind': 'llm', 'app.gateway.target': body.moma.decision.target });
    expect(typeof decisionEvent?.attributes['app.gateway.reason_class']).toBe('string');

    // The executor's span carries the session; the usage event is created under it and consumed under that.
    const execute = mine.find((s) => s.serviceName === 'executor' && s.name === 'moma.v1.Executor/Execute')!;
    expect(execute.attributes).toMatchObject({ 'rpc.system': 'grpc', 'session.id': sid });
    const created = mine.find((s) => s.name === 'create moma.events.usage')!;
    expect(created).toMatchObject({ serviceName: 'executor', kind: 4, parentSpanId: execute.spanId });
    const processed = mine.find((s) => s.name === 'process moma.events.usage')!;
    expect(processed).toMatchObject({ serviceName: 'orchestrator', kind: 5, parentSpanId: created.spanId });
    expect(processed.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.destination.name': 'moma.events.usage' });
    expect(byId.get(processed.parentSpanId)).toBeDefined();
    // No usage publish is a trace of its own.
    const orphans = otlp.spans().filter((s) => s.name.endsWith('moma.events.usage') && s.parentSpanId === '');
    expect(orphans.map((s) => `${s.serviceName} ${s.name}`)).toEqual([]);
  });

  it('e2e - with NATS gone a gateway answers 503 quickly, on chat and on /healthz', async () => {
    const proxy = await startTcpProxy(natsUrl);
    const gw = await startExtraGateway(sys, proxy.url);
    try {
      const ok = await fetch(`${gw.httpUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [user('Are you there?')] }),
      });
      expect(ok.status).toBe(200);
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      const res = await fetch(`${gw.httpUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [user('Are you still there?')] }),
      });
      const elapsed = Date.now() - started;
      const body = (await res.json()) as any;
      expect(res.status, JSON.stringify(body)).toBe(503);
      expect(body.error.message).toMatch(/NATS|bus/i);
      // "Fast" = well inside the 2 s request deadline; not a latency assertion, a hang detector.
      expect(elapsed).toBeLessThan(1500);
      const health = await fetch(`${gw.httpUrl}/healthz`);
      expect(health.status).toBe(503);
    } finally {
      await gw.stop();
    }
  });

  it('e2e - no service died during the run', () => {
    expect(sys.deaths).toEqual([]);
  });
});
