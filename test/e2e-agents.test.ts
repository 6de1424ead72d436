// End to end, the agent path (issue 4): a real A2A agent registered by URL through the gateway serves a multi-turn
// conversation — it asks for missing input, keeps the conversation while waiting for it, and lets go when the user
// changes topic, which sends the conversation back to LLM routing. Every service is its own process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { AgentRegistryClient, type ListAgentsResponse } from '@moma/proto';
import { startA2AAgent, startFakeOpenAI, testInfra, uniqueId, type A2AAgent, type FakeOpenAI } from '@moma/testkit';
import { startPrivateNats, startSystem, type PrivateNats, type System } from './support/system.ts';

const infra = await testInfra();
const user = (content: string) => ({ role: 'user', content });

describe.skipIf(!infra.ok)(`e2e - agent path over NATS + Redis${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  let fake: FakeOpenAI;
  let agent: A2AAgent;
  let currency: A2AAgent;
  let sys: System;
  let nats: PrivateNats | undefined;
  let natsUrl = '';
  let agentId = '';

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    agent = await startA2AAgent();
    currency = await startA2AAgent({
      name: 'Currency Agent',
      description: 'Converts amounts between currencies at today\'s exchange rates.',
      skills: [
        {
          id: 'convert',
          name: 'Currency conversion',
          description: 'Convert an amount of money from one currency to another.',
          tags: ['currency', 'exchange rate', 'money'],
          examples: ['How many dollars is 100 euros?', 'Convert 50 pounds to yen', 'What is the euro to dollar exchange rate?'],
        },
      ],
      respond: (turn) => ({ state: 'completed', text: `Converted: ${turn.text.length % 90 + 10} units.` }),
    });
    nats = await startPrivateNats();
    natsUrl = nats?.url ?? infra.natsUrl;
    sys = await startSystem({
      natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix: `e2e-agents-${uniqueId()}:`,
      providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'] }],
      // The test agents listen on loopback, which card_url fetches deny unless allowed.
      env: { MOMA_CARD_FETCH_ALLOW: '127.0.0.1/32' },
    });
  }, 90_000);

  afterAll(async () => {
    await sys?.stop();
    await nats?.stop();
    await agent?.close();
    await currency?.close();
    await fake?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${sys.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('e2e agents - a card_url at a metadata or private address is a 400 that names only the reason class', async () => {
    for (const card_url of ['http://169.254.169.254/latest/meta-data', 'http://10.0.0.7:8080/agent', 'http://[::ffff:192.168.0.1]/']) {
      const res = await post('/v1/agents', { card_url });
      const body = (await res.json()) as any;
      expect(res.status, card_url).toBe(400);
      expect(body.error.message).toBe('card could not be fetched: its address is not allowed (see MOMA_CARD_FETCH_ALLOW)');
    }
  });

  it('e2e agents - a card nested 5,000 deep or over 256 KB is a 400 naming the limit, and the system stays healthy', async () => {
    const nested = await fetch(`${sys.httpUrl}/v1/agents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"card":{"name":"Deep","url":"http://127.0.0.1:9/a2a","extra":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
    });
    expect(nested.status).toBe(400);
    expect(((await nested.json()) as any).error.message).toMatch(/nested deeper than \d+ levels/);
    const big = await post('/v1/agents', { card: { name: 'Big', url: 'http://127.0.0.1:9/a2a', description: 'x'.repeat(300 * 1024) } });
    expect([400, 413]).toContain(big.status);
    expect(((await big.json()) as any).error.message).toMatch(/bytes|too large|limit/i);
    expect((await fetch(`${sys.httpUrl}/healthz`)).status).toBe(200);
  });

  it('e2e agents - six 200 KB cards: the listing pages under the bus limit and health stays green', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `big-${i}-${uniqueId()}`.toLowerCase().replace(/[^a-z0-9-]/g, ''));
    for (const id of ids) {
      const res = await post('/v1/agents', {
        id,
        card: { name: `Big ${id}`, url: 'http://127.0.0.1:9/a2a', 'x-padding': 'd'.repeat(200 * 1024), skills: [{ id: 's', name: 'S', examples: ['pad the registry'] }] },
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    try {
      const seen: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const q: string = token ? `?limit=100&page_token=${encodeURIComponent(token)}` : '?limit=100';
        const res = await fetch(`${sys.httpUrl}/v1/agents${q}`);
        expect(res.status).toBe(200);
        const page = (await res.json()) as { data: Array<{ id: string }>; has_more: boolean; next_page_token: string | null };
        seen.push(...page.data.map((a) => a.id));
        token = page.next_page_token;
        pages++;
      } while (token && pages < 20);
      for (const id of ids) expect(seen).toContain(id);
      expect(pages).toBeGreaterThan(1); // 1.2 MB of cards do not fit one 512 KiB page
      expect((await fetch(`${sys.httpUrl}/healthz`)).status).toBe(200);
      const bad = await fetch(`${sys.httpUrl}/v1/agents?limit=0`);
      expect(bad.status).toBe(400);
    } finally {
      for (const id of ids) await fetch(`${sys.httpUrl}/v1/agents/${id}`, { method: 'DELETE' });
    }
  });

  it('e2e agents - an agent registered by URL through the gateway is listed over HTTP and gRPC', async () => {
    const res = await post('/v1/agents', { card_url: agent.url });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(201);
    agentId = body.agent.id;
    expect(body.agent.name).toBe(agent.card.name);
    expect(body.agent.skills.length).toBeGreaterThan(0);

    const listed = (await (await fetch(`${sys.httpUrl}/v1/agents`)).json()) as any;
    expect(listed.data.map((a: any) => a.id)).toContain(agentId);
    const client = new AgentRegistryClient(sys.grpcAddr, grpc.credentials.createInsecure());
    try {
      const viaGrpc = await new Promise<ListAgentsResponse>((resolve, reject) =>
        client.listAgents({ tenant: '', knownVersion: 0, pageSize: 0, pageToken: '' }, (err, r) => (err ? reject(err) : resolve(r))),
      );
      expect(viaGrpc.agents.map((a) => a.id)).toContain(agentId);
    } finally {
      client.close();
    }
  });

  it('e2e agents - a malformed card is refused with a message naming what is wrong', async () => {
    const res = await post('/v1/agents', { card: { description: 'no name, no skills' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(/name|skills/);
  });

  /** Where `question` is routed, asked again (for up to 10 s) until it goes to `agent`. */
  const routedOnceServed = async (question: string, agent: string): Promise<string> => {
    const deadline = Date.now() + 10_000;
    let routedTo = '';
    while (Date.now() < deadline) {
      const r = (await (await post('/v1/route', { messages: [user(question)] })).json()) as any;
      routedTo = r.decision?.target ?? '';
      if (routedTo === `agent:${agent}`) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    return routedTo;
  };

  it('e2e agents - the agent takes the topic, asks for input, keeps the turn, and topic change goes back to an LLM', async () => {
    expect(agentId).not.toBe('');
    // The registry change reaches every intent instance over NATS; wait until routing sees the agent.
    expect(await routedOnceServed('What is the weather going to be like today?', agentId)).toBe(`agent:${agentId}`);

    // Turn 1: no city → the agent asks for it (input-required).
    const created = await post('/v1/sessions', {});
    expect(created.status).toBe(201);
    const sid = ((await created.json()) as { session_id: string }).session_id;
    const t1 = await post('/v1/chat/completions', { messages: [user('What is the weather going to be like today?')] }, { 'x-moma-session-id': sid });
    const b1 = (await t1.json()) as any;
    expect(t1.status, JSON.stringify(b1)).toBe(200);
    expect(t1.headers.get('x-moma-target')).toBe(`agent:${agentId}`);
    expect(b1.moma.agent_state).toBe('input-required');
    expect(b1.choices[0].message.content).toMatch(/which city/i);

    // Turn 2: a bare answer would never route to a weather agent alone; the state machine keeps it there.
    const t2 = await post('/v1/chat/completions', { messages: [user('Lisbon')] }, { 'x-moma-session-id': sid });
    const b2 = (await t2.json()) as any;
    expect(t2.status, JSON.stringify(b2)).toBe(200);
    expect(t2.headers.get('x-moma-target')).toBe(`agent:${agentId}`);
    expect(b2.moma.agent_state).toBe('completed');
    expect(b2.choices[0].message.content).toMatch(/Weather in Lisbon/);
    expect(agent.turns.at(-1)!.history.length).toBeGreaterThan(0);

    // Turn 3: a different topic goes back to LLM routing, with the conversation so far as context.
    const before = fake.requests.length;
    const t3 = await post(
      '/v1/chat/completions',
      { messages: [user('Write a Python function that reverses a linked list.')] },
      { 'x-moma-session-id': sid },
    );
    const b3 = (await t3.json()) as any;
    expect(t3.status, JSON.stringify(b3)).toBe(200);
    expect(t3.headers.get('x-moma-target')).toMatch(/^llm:/);
    expect(fake.requests.length).toBe(before + 1);
    expect(fake.requests.at(-1)!.messages.some((m) => /Lisbon/.test(m.content))).toBe(true);
  });

  it('e2e agents - a new task for another agent takes the conversation from the one holding it, and the hand-off is counted by its rule', async () => {
    expect(agentId).not.toBe('');
    const reg = await post('/v1/agents', { card_url: currency.url });
    const currencyId = ((await reg.json()) as any).agent.id as string;
    expect(reg.status).toBe(201);
    expect(await routedOnceServed('How many dollars is 100 euros?', currencyId)).toBe(`agent:${currencyId}`);

    const sid = ((await (await post('/v1/sessions', {})).json()) as { session_id: string }).session_id;
    const t1 = await post('/v1/chat/completions', { messages: [user('What is the weather in Lisbon today?')] }, { 'x-moma-session-id': sid });
    expect(t1.headers.get('x-moma-target')).toBe(`agent:${agentId}`);
    expect(((await t1.json()) as any).moma.agent_state).toBe('completed');
    // the earlier weather turns are this turn's context; the turn itself is about money
    const t2 = await post('/v1/chat/completions', { messages: [user('And how many dollars is 100 euros?')] }, { 'x-moma-session-id': sid });
    const b2 = (await t2.json()) as any;
    expect(t2.status, JSON.stringify(b2)).toBe(200);
    expect(t2.headers.get('x-moma-target')).toBe(`agent:${currencyId}`);
    expect(b2.choices[0].message.content).toMatch(/^Converted/);
    // the hand-off's state name has an arrow: the header carries it URI-encoded (a raw one was a 500)
    expect(decodeURIComponent(t2.headers.get('x-moma-fsm-state') ?? '')).toBe(`handed_off(${agentId}→${currencyId})`);
    expect(b2.moma.decision.fsm_state).toBe(`handed_off(${agentId}→${currencyId})`);

    // The same while the weather agent waits for its city: the new task goes to the currency agent as a new task
    // (not as an answer to the weather agent's open one), and the weather agent is not called.
    const sid2 = ((await (await post('/v1/sessions', {})).json()) as { session_id: string }).session_id;
    const w1 = await post('/v1/chat/completions', { messages: [user('What is the weather going to be like today?')] }, { 'x-moma-session-id': sid2 });
    expect(((await w1.json()) as any).moma.agent_state).toBe('input-required');
    const weatherTurns = agent.turns.length;
    const w2 = await post('/v1/chat/completions', { messages: [user('Never mind that. How many dollars is 100 euros?')] }, { 'x-moma-session-id': sid2 });
    const bw2 = (await w2.json()) as any;
    expect(w2.status, JSON.stringify(bw2)).toBe(200);
    expect(w2.headers.get('x-moma-target')).toBe(`agent:${currencyId}`);
    expect(bw2.moma.agent_state).toBe('completed');
    expect(agent.turns.length).toBe(weatherTurns);

    const metrics = await (await fetch(`${sys.healthUrls.orchestrator}/metrics`)).text();
    const handoffs = metrics.split('\n').filter((l) => l.startsWith('moma_agent_handoffs_total{'));
    expect(handoffs.some((l) => /by="(turn|margin)"/.test(l) && Number(l.split(' ').at(-1)) >= 1), handoffs.join('\n')).toBe(true);
  });

  it('e2e agents - an agent removed through the gateway is gone', async () => {
    const res = await fetch(`${sys.httpUrl}/v1/agents/${agentId}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const listed = (await (await fetch(`${sys.httpUrl}/v1/agents`)).json()) as any;
    expect(listed.data.map((a: any) => a.id)).not.toContain(agentId);
  });

  it('e2e agents - no service died during the run', () => {
    expect(sys.deaths).toEqual([]);
  });
});
