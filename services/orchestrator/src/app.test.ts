import { Code, connectNatsBus, connectRedisStore, createLogger, MemoryBus, MemoryStore, Subjects, type Bus, type Codec, type Store } from '@moma/platform';
import {
  Agent,
  ListAgentsRequest,
  ListAgentsResponse,
  OrchestrateRequest,
  OrchestrateResponse,
  RecordTurnRequest,
  RecordTurnResponse,
  RegisterAgentRequest,
  RegisterAgentResponse,
  RemoveAgentRequest,
  RemoveAgentResponse,
  TargetKind,
  UpdateAgentRequest,
  UpdateAgentResponse,
} from '@moma/proto';
import { startA2AAgent, testInfra, uniqueId } from '@moma/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrchestrator, type OrchestratorHandle } from './app.ts';
import { sessionKey, type SessionRecord } from './session.ts';
import { BANK_CARD, intent, prefixedBus, WEATHER_CARD } from './test-support.ts';

const logger = createLogger('orchestrator-test', { level: 'silent' });
const config = { SESSION_TTL_SECONDS: 600, AGENT_CARD_TIMEOUT_MS: 3000, SESSION_MAX_MESSAGES: 200 };

interface Rig {
  /** Two orchestrator instances' buses (same subjects), plus a client bus, all on one transport. */
  servers: [Bus, Bus];
  client: Bus;
  store: Store;
  close(): Promise<void>;
}

function orchestratorSuite(rigFor: () => Promise<Rig>): void {
  let rig: Rig;
  let a: OrchestratorHandle;
  let b: OrchestratorHandle;
  const req = <Req, Res>(subject: string, body: Req, rc: Codec<Req>, sc: Codec<Res>) => rig.client.request(subject, body, rc, sc);
  const register = (r: Parameters<typeof RegisterAgentRequest.fromPartial>[0]) =>
    req<RegisterAgentRequest, RegisterAgentResponse>(Subjects.registryRegister, RegisterAgentRequest.fromPartial(r), RegisterAgentRequest, RegisterAgentResponse);
  const update = (r: Parameters<typeof UpdateAgentRequest.fromPartial>[0]) =>
    req<UpdateAgentRequest, UpdateAgentResponse>(Subjects.registryUpdate, UpdateAgentRequest.fromPartial(r), UpdateAgentRequest, UpdateAgentResponse);
  const decide = (r: Parameters<typeof OrchestrateRequest.fromPartial>[0]) =>
    req<OrchestrateRequest, OrchestrateResponse>(Subjects.orchestratorDecide, OrchestrateRequest.fromPartial(r), OrchestrateRequest, OrchestrateResponse);
  const record = (r: Parameters<typeof RecordTurnRequest.fromPartial>[0]) =>
    req<RecordTurnRequest, RecordTurnResponse>(Subjects.orchestratorRecord, RecordTurnRequest.fromPartial(r), RecordTurnRequest, RecordTurnResponse);
  const agentDecision = (id: string) => ({ target: `agent:${id}`, kind: TargetKind.TARGET_KIND_AGENT });
  const user = (content: string) => ({ role: 'user', content });

  beforeAll(async () => {
    rig = await rigFor();
    a = await startOrchestrator({ name: 'orchestrator', bus: rig.servers[0], store: rig.store, logger }, config);
    b = await startOrchestrator({ name: 'orchestrator', bus: rig.servers[1], store: rig.store, logger }, config);
    await register({ cardJson: WEATHER_CARD, tenants: [] });
    await register({ cardJson: BANK_CARD, tenants: ['acme'] });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await rig?.close();
  });

  it('registry - registers by card JSON, derives the id, and every instance sees it', async () => {
    const list = await req<ListAgentsRequest, ListAgentsResponse>(Subjects.registryList, { tenant: '' }, ListAgentsRequest, ListAgentsResponse);
    expect(list.agents.map((x) => x.id)).toEqual(['bank-helper', 'weather-bot']);
    expect(list.agents[1]!.card?.skills[0]?.examples).toHaveLength(3);
    expect(list.agents[1]!.healthy).toBe(true);
    const forOther = await req<ListAgentsRequest, ListAgentsResponse>(Subjects.registryList, { tenant: 'other' }, ListAgentsRequest, ListAgentsResponse);
    expect(forOther.agents.map((x) => x.id)).toEqual(['weather-bot']);
    // the announcement reached both instances' in-memory registries
    await waitFor(() => a.registry.size === 2 && b.registry.size === 2);
  });

  it('registry - refuses a malformed card with a message naming the field', async () => {
    const bad = JSON.stringify({ name: 'No Url', skills: [] });
    await expect(register({ cardJson: bad })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/url/) });
    const badSkill = JSON.stringify({ name: 'X', url: 'http://x.example', skills: [{ name: 'no id' }] });
    await expect(register({ cardJson: badSkill })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('skills[0].id') });
    await expect(register({ cardJson: '{not json' })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('not valid JSON') });
    await expect(register({})).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(register({ cardUrl: 'ftp://x' })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  it('registry - registers by URL from the well-known card path, updates and removes', async () => {
    const agent = await startA2AAgent({ name: `Url Agent ${uniqueId()}` });
    try {
      const { agent: stored } = await register({ cardUrl: agent.url, id: 'url-agent', category: 'weather' });
      expect(stored?.id).toBe('url-agent');
      expect(stored?.card?.name).toBe(agent.card.name);
      expect(stored?.category).toBe('weather');
      expect(JSON.parse(stored!.cardJson).name).toBe(agent.card.name);
      const { agent: changed } = await update({ id: 'url-agent', healthy: false, setTenants: true, tenants: ['t1'] });
      expect(changed).toMatchObject({ healthy: false, tenants: ['t1'] });
      await expect(update({ id: 'nope', healthy: true })).rejects.toMatchObject({ code: Code.NOT_FOUND });
      const removed = await req<RemoveAgentRequest, RemoveAgentResponse>(Subjects.registryRemove, { id: 'url-agent' }, RemoveAgentRequest, RemoveAgentResponse);
      expect(removed.removed).toBe(true);
      await waitFor(() => !a.registry.get('url-agent') && !b.registry.get('url-agent'));
    } finally {
      await agent.close();
    }
    await expect(register({ cardUrl: 'http://127.0.0.1:1' })).rejects.toMatchObject({ code: Code.UNAVAILABLE, message: expect.stringContaining('agent-card.json') });
  });

  it('session - unknown session without create_session is NOT_FOUND', async () => {
    await expect(decide({ sessionId: uniqueId('s'), intent: intent(), message: user('hi') })).rejects.toMatchObject({
      code: Code.NOT_FOUND,
      message: expect.stringContaining('unknown session'),
    });
    await expect(record({ sessionId: uniqueId('s'), servedBy: 'llm:x' })).rejects.toMatchObject({ code: Code.NOT_FOUND });
  });

  it('session - agent conversation: engage, input-required keeps it, completed, then topic change goes to the LLM', async () => {
    const sessionId = uniqueId('s');
    const t1 = await decide({ sessionId, createSession: true, intent: intent(['weather-bot', 0.9]), message: user('weather please') });
    expect(t1).toMatchObject({ agentId: 'weather-bot', agentUrl: 'http://127.0.0.1:9/a2a', fsmState: 'engaged(weather-bot)', history: [] });
    const r1 = await record({ sessionId, decision: agentDecision('weather-bot'), servedBy: 'agent:weather-bot', agentState: 'input-required', agentTaskId: 'task-1', agentContextId: 'ctx-1', reply: { role: 'assistant', content: 'Which city?' } });
    expect(r1.fsmState).toBe('awaiting_input(weather-bot)');
    expect(r1.version).toBeGreaterThan(0);

    // An out-of-scope answer ("Lisbon") stays with the agent that asked, continuing its task.
    const t2 = await decide({ sessionId, intent: intent(['bank-helper', 0.2]), message: user('Lisbon') });
    expect(t2).toMatchObject({ agentId: 'weather-bot', agentTaskId: 'task-1', agentContextId: 'ctx-1', fsmState: 'awaiting_input(weather-bot)' });
    expect(t2.history.map((m) => m.content)).toEqual(['weather please', 'Which city?']);
    const r2 = await record({ sessionId, decision: agentDecision('weather-bot'), servedBy: 'agent:weather-bot', agentState: 'completed', agentTaskId: 'task-1', agentContextId: 'ctx-1', reply: { role: 'assistant', content: 'Sunny in Lisbon' } });
    expect(r2.fsmState).toBe('engaged(weather-bot)');

    const t3 = await decide({ sessionId, intent: intent(), message: user('write me a poem about cats') });
    expect(t3.agentId).toBe('');
    expect(t3.fsmState).toBe('llm');
    expect(t3.reason).toMatch(/topic left weather-bot/);
    const stored = await rig.store.get<SessionRecord>(sessionKey(sessionId));
    expect(stored?.value.history.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(stored?.value.fsm).toEqual({ kind: 'llm' });
    expect(stored?.value.agentTaskId).toBe('task-1');
  });

  it('session - masking: unhealthy and tenant-restricted agents are masked with the reason', async () => {
    const sessionId = uniqueId('s');
    const t1 = await decide({ sessionId, createSession: true, tenant: 'other', intent: intent(['bank-helper', 0.9]), message: user('my balance') });
    expect(t1.agentId).toBe('');
    expect(t1.masked).toEqual([{ agentId: 'bank-helper', reason: 'not permitted for tenant other' }]);
    const t2 = await decide({ sessionId, tenant: 'acme', intent: intent(['bank-helper', 0.9]), message: user('my balance') });
    expect(t2.agentId).toBe('bank-helper');

    await update({ id: 'bank-helper', healthy: false });
    await waitFor(() => a.registry.get('bank-helper')?.healthy === false && b.registry.get('bank-helper')?.healthy === false);
    const t3 = await decide({ sessionId, tenant: 'acme', intent: intent(['bank-helper', 0.9]), message: user('transfer 10') });
    expect(t3.agentId).toBe('');
    expect(t3.masked).toContainEqual({ agentId: 'bank-helper', reason: 'unhealthy' });
    await update({ id: 'bank-helper', healthy: true });
    await waitFor(() => a.registry.get('bank-helper')?.healthy === true && b.registry.get('bank-helper')?.healthy === true);
  });

  it('session - agent fallback to an LLM, explicit switch, and disabled agents', async () => {
    const sessionId = uniqueId('s');
    await decide({ sessionId, createSession: true, intent: intent(['weather-bot', 0.9]), message: user('weather') });
    const r = await record({ sessionId, decision: agentDecision('weather-bot'), servedBy: 'llm:small', reply: { role: 'assistant', content: 'fallback answer' } });
    expect(r.fsmState).toBe('llm');
    const sw = await decide({ sessionId, switchTo: 'agent:weather-bot', intent: intent(), message: user('talk to the weather bot') });
    expect(sw).toMatchObject({ agentId: 'weather-bot', reason: expect.stringContaining('user switched') });
    const off = await decide({ sessionId, disableAgents: true, message: user('no agents now') });
    expect(off).toMatchObject({ agentId: '', fsmState: 'llm' });
  });

  it('session - stateless decide persists nothing', async () => {
    const res = await decide({ sessionId: '', intent: intent(['weather-bot', 0.9]), message: user('rain?') });
    expect(res).toMatchObject({ agentId: 'weather-bot', history: [] });
    await expect(decide({ sessionId: 'bad id with spaces', createSession: true, intent: intent() })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  it('registry - a change whose announcement was missed is picked up by resync', async () => {
    const agent = Agent.fromPartial({ id: 'silent', card: { name: 'Silent', url: 'http://127.0.0.1:9/s', skills: [] }, healthy: true });
    await rig.store.put('agent:silent', Agent.toJSON(agent));
    await rig.store.update<number>('registry:version', (n) => (n ?? 0) + 1);
    expect(a.registry.get('silent')).toBeUndefined();
    expect(await a.registry.resync()).toBe(true);
    expect(a.registry.get('silent')?.healthy).toBe(true);
    expect(await a.registry.resync()).toBe(false); // nothing moved since
    await rig.store.delete('agent:silent');
    await rig.store.update<number>('registry:version', (n) => (n ?? 0) + 1);
    expect(await a.registry.resync()).toBe(true);
    expect(a.registry.get('silent')).toBeUndefined();
  });

  it('session - 20 concurrent decides on one session keep every user turn', async () => {
    const sessionId = uniqueId('s');
    await decide({ sessionId, createSession: true, intent: intent(), message: user('start') });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => decide({ sessionId, intent: intent(), message: user(`turn ${i}`) })));
    expect(results.every((r) => r.fsmState === 'llm')).toBe(true);
    const stored = await rig.store.get<SessionRecord>(sessionKey(sessionId));
    const turns = stored!.value.history.map((m) => m.content);
    expect(turns.sort()).toEqual(['start', ...Array.from({ length: 20 }, (_, i) => `turn ${i}`)].sort());
  });

  it('session - 20 concurrent records on one session lose no update', async () => {
    const sessionId = uniqueId('s');
    await decide({ sessionId, createSession: true, intent: intent(), message: user('start') });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        record({ sessionId, servedBy: 'llm:small', reply: { role: 'assistant', content: `reply ${i}` }, decision: { target: 'llm:small' } }),
      ),
    );
    expect(new Set(results.map((r) => r.version)).size).toBe(20); // every write got its own version
    const stored = await rig.store.get<SessionRecord>(sessionKey(sessionId));
    const replies = stored!.value.history.filter((m) => m.role === 'assistant').map((m) => m.content);
    expect(replies.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `reply ${i}`).sort());
  });
}

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('orchestrator - memory bus and store', () => {
  orchestratorSuite(async () => {
    const bus = new MemoryBus();
    return { servers: [bus, bus], client: bus, store: new MemoryStore(), close: () => bus.close() };
  });
});

const infra = await testInfra({ nats: true, redis: true });
describe.skipIf(!infra.ok)(`orchestrator - real NATS and Redis${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  orchestratorSuite(async () => {
    const prefix = uniqueId('orch');
    const buses = await Promise.all(
      ['orchestrator', 'orchestrator', 'orchestrator-test-client'].map((name) => connectNatsBus({ url: infra.natsUrl, name, useServices: false, logger })),
    );
    const store = await connectRedisStore({ url: infra.redisUrl, keyPrefix: `moma-test:${prefix}:`, logger });
    return {
      servers: [prefixedBus(buses[0]!, prefix), prefixedBus(buses[1]!, prefix)],
      client: prefixedBus(buses[2]!, prefix),
      store,
      close: async () => {
        for (const { key } of await store.list('')) await store.delete(key);
        await store.close();
        for (const bus of buses) await bus.close();
      },
    };
  });
});
