import { agentTarget, llmTarget } from '@moma/core/rules';
import { Code, connectNatsBus, connectRedisStore, createLogger, MemoryBus, MemoryStore, stageClient, type Bus, type Store } from '@moma/platform';
import { Agent, DecideRequest, OrchestratorStageDefinition, RecordTurnRequest, RegisterAgentRequest, UpdateAgentRequest } from '@moma/proto';
import { startA2AAgent, testInfra, uniqueId } from '@moma/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrchestrator, type OrchestratorHandle } from './app.ts';
import { sessionKey, type SessionRecord } from './session.ts';
import { BANK_CARD, intent, prefixedBus, WEATHER_CARD } from './test-support.ts';

const logger = createLogger('orchestrator-test', { level: 'silent' });
// The test agents listen on loopback, which card_url fetches deny unless allowed.
const config = { SESSION_TTL_SECONDS: 600, AGENT_CARD_TIMEOUT_MS: 3000, SESSION_MAX_MESSAGES: 200, MOMA_CARD_FETCH_ALLOW: ['127.0.0.1/32'] };

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
  const stage = () => stageClient(rig.client, OrchestratorStageDefinition);
  const register = (r: Parameters<typeof RegisterAgentRequest.fromPartial>[0]) => stage().registerAgent(RegisterAgentRequest.fromPartial(r));
  const update = (r: Parameters<typeof UpdateAgentRequest.fromPartial>[0]) => stage().updateAgent(UpdateAgentRequest.fromPartial(r));
  const decide = (r: Parameters<typeof DecideRequest.fromPartial>[0]) => stage().decide(DecideRequest.fromPartial(r));
  const record = (r: Parameters<typeof RecordTurnRequest.fromPartial>[0]) => stage().recordTurn(RecordTurnRequest.fromPartial(r));
  const list = (tenant: string, knownVersion = 0, pageSize = 0, pageToken = '') => stage().listAgents({ tenant, knownVersion, pageSize, pageToken });
  const newSession = async () => (await stage().createSession({ tenant: '' })).sessionId;
  const user = (content: string) => ({ role: 'user', content });
  const reply = (content: string) => ({ role: 'assistant', content });

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
    const all = await list('');
    expect(all.agents.map((x) => x.id)).toEqual(['bank-helper', 'weather-bot']);
    expect(all.agents[1]!.card?.skills[0]?.examples).toHaveLength(3);
    expect(all.agents[1]!.healthy).toBe(true);
    expect(all).toMatchObject({ version: 2, listed: true });
    const forOther = await list('other');
    expect(forOther.agents.map((x) => x.id)).toEqual(['weather-bot']);
    // a copy at the current version gets only the version back; -1 asks for the version alone
    expect(await list('', all.version)).toEqual({ agents: [], version: all.version, listed: false, nextPageToken: '' });
    expect(await list('', -1)).toEqual({ agents: [], version: all.version, listed: false, nextPageToken: '' });
    // pages: one agent each, then the rest; a token from elsewhere is INVALID_ARGUMENT
    const p1 = await list('', 0, 1);
    expect(p1.agents.map((x) => x.id)).toEqual(['bank-helper']);
    const p2 = await list('', 0, 1, p1.nextPageToken);
    expect(p2.agents.map((x) => x.id)).toEqual(['weather-bot']);
    expect(p2.nextPageToken).toBe('');
    await expect(list('', 0, 1, '!!not-a-token')).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
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
      const removed = await stage().removeAgent({ id: 'url-agent', owner: '' });
      expect(removed.removed).toBe(true);
      await waitFor(() => !a.registry.get('url-agent') && !b.registry.get('url-agent'));
    } finally {
      await agent.close();
    }
    await expect(register({ cardUrl: 'http://127.0.0.1:1' })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: 'card could not be fetched: the connection failed' });
  });

  it('session - an unknown session is NOT_FOUND for decide and record', async () => {
    await expect(decide({ sessionId: uniqueId('s'), intent: intent() })).rejects.toMatchObject({
      code: Code.NOT_FOUND,
      message: expect.stringContaining('unknown session'),
    });
    await expect(record({ sessionId: uniqueId('s'), servedBy: llmTarget('x') })).rejects.toMatchObject({ code: Code.NOT_FOUND });
  });

  it('session - agent conversation: engage, input-required keeps it, completed, then topic change goes to the LLM', async () => {
    const sessionId = await newSession();
    const t1 = await decide({ sessionId, intent: intent(['weather-bot', 0.9]) });
    expect(t1).toMatchObject({ agentId: 'weather-bot', agentUrl: 'http://127.0.0.1:9/a2a', fsmState: 'engaged(weather-bot)', history: [] });
    const r1 = await record({ sessionId, question: user('weather please'), chosen: agentTarget('weather-bot'), servedBy: agentTarget('weather-bot'), agentState: 'input-required', agentTaskId: 'task-1', agentContextId: 'ctx-1', reply: reply('Which city?') });
    expect(r1.fsmState).toBe('awaiting_input(weather-bot)');
    expect(r1.version).toBeGreaterThan(0);

    // An out-of-scope answer ("Lisbon") stays with the agent that asked, continuing its task.
    const t2 = await decide({ sessionId, intent: intent(['bank-helper', 0.2]) });
    expect(t2).toMatchObject({ agentId: 'weather-bot', agentTaskId: 'task-1', agentContextId: 'ctx-1', fsmState: 'awaiting_input(weather-bot)' });
    expect(t2.history.map((m) => m.content)).toEqual(['weather please', 'Which city?']);
    const r2 = await record({ sessionId, question: user('Lisbon'), chosen: agentTarget('weather-bot'), servedBy: agentTarget('weather-bot'), agentState: 'completed', agentTaskId: 'task-1', agentContextId: 'ctx-1', reply: reply('Sunny in Lisbon') });
    expect(r2.fsmState).toBe('engaged(weather-bot)');

    const t3 = await decide({ sessionId, intent: intent() });
    expect(t3.agentId).toBe('');
    expect(t3.fsmState).toBe('llm');
    expect(t3.reason).toMatch(/topic left weather-bot/);
    const stored = await rig.store.get<SessionRecord>(sessionKey(sessionId));
    expect(stored?.value.history.map((m) => m.content)).toEqual(['weather please', 'Which city?', 'Lisbon', 'Sunny in Lisbon']);
    expect(stored?.value.fsm).toEqual({ kind: 'llm' });
    expect(stored?.value.agentTaskId).toBe('task-1');
  });

  it('session - a failed turn leaves the history as it was; the chosen agent counts as failed', async () => {
    const sessionId = await newSession();
    await decide({ sessionId, intent: intent(['weather-bot', 0.9]) });
    const r = await record({ sessionId, question: user('weather?'), chosen: agentTarget('weather-bot'), failed: true });
    expect(r.fsmState).toBe('llm');
    const stored = await rig.store.get<SessionRecord>(sessionKey(sessionId));
    expect(stored?.value.history).toEqual([]);
  });

  it('session - masking: an unhealthy agent is masked with the reason; another tenant\'s private agent is not even named', async () => {
    const t1 = await decide({ sessionId: '', tenant: 'other', intent: intent(['bank-helper', 0.9]) });
    expect(t1.agentId).toBe('');
    expect(t1.masked).toEqual([]);
    const sessionId = (await stage().createSession({ tenant: 'acme' })).sessionId;
    const t2 = await decide({ sessionId, tenant: 'acme', intent: intent(['bank-helper', 0.9]) });
    expect(t2.agentId).toBe('bank-helper');

    await update({ id: 'bank-helper', healthy: false });
    await waitFor(() => a.registry.get('bank-helper')?.healthy === false && b.registry.get('bank-helper')?.healthy === false);
    const t3 = await decide({ sessionId, tenant: 'acme', intent: intent(['bank-helper', 0.9]) });
    expect(t3.agentId).toBe('');
    expect(t3.masked).toContainEqual({ agentId: 'bank-helper', reason: 'unhealthy' });
    await update({ id: 'bank-helper', healthy: true });
    await waitFor(() => a.registry.get('bank-helper')?.healthy === true && b.registry.get('bank-helper')?.healthy === true);
  });

  it('session - another tenant\'s session is NOT_FOUND for decide and record, and keeps its history', async () => {
    const sessionId = (await stage().createSession({ tenant: 'acme' })).sessionId;
    await record({ sessionId, tenant: 'acme', question: user('my secret is 42'), chosen: llmTarget('small'), servedBy: llmTarget('small'), reply: reply('noted') });
    for (const tenant of ['other', '']) {
      await expect(decide({ sessionId, tenant, intent: intent() })).rejects.toMatchObject({ code: Code.NOT_FOUND, message: expect.stringContaining('unknown session') });
      await expect(record({ sessionId, tenant, question: user('intruder'), servedBy: llmTarget('small'), reply: reply('x') })).rejects.toMatchObject({ code: Code.NOT_FOUND });
    }
    const own = await decide({ sessionId, tenant: 'acme', intent: intent() });
    expect(own.history.map((m) => m.content)).toEqual(['my secret is 42', 'noted']);
  });

  it('session - agent fallback to an LLM, explicit switch, and disabled agents', async () => {
    const sessionId = await newSession();
    await decide({ sessionId, intent: intent(['weather-bot', 0.9]) });
    const r = await record({ sessionId, question: user('weather'), chosen: agentTarget('weather-bot'), servedBy: llmTarget('small'), reply: reply('fallback answer') });
    expect(r.fsmState).toBe('llm');
    const sw = await decide({ sessionId, switchTo: agentTarget('weather-bot'), intent: intent() });
    expect(sw).toMatchObject({ agentId: 'weather-bot', reason: expect.stringContaining('user switched') });
    const off = await decide({ sessionId, disableAgents: true });
    expect(off).toMatchObject({ agentId: '', fsmState: 'llm' });
  });

  it('session - stateless decide persists nothing; a malformed session id is INVALID_ARGUMENT', async () => {
    const res = await decide({ sessionId: '', intent: intent(['weather-bot', 0.9]) });
    expect(res).toMatchObject({ agentId: 'weather-bot', history: [] });
    await expect(decide({ sessionId: 'bad id with spaces', intent: intent() })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
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

  it('session - 20 concurrent records on one session lose no update and keep each question beside its reply', async () => {
    const sessionId = await newSession();
    await decide({ sessionId, intent: intent() });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        record({ sessionId, question: user(`question ${i}`), chosen: llmTarget('small'), servedBy: llmTarget('small'), reply: reply(`reply ${i}`) }),
      ),
    );
    expect(new Set(results.map((r) => r.version)).size).toBe(20); // every write got its own version
    const history = (await rig.store.get<SessionRecord>(sessionKey(sessionId)))!.value.history;
    expect(history).toHaveLength(40);
    const pairs = Array.from({ length: 20 }, (_, k) => [history[2 * k]!.content, history[2 * k + 1]!.content]);
    for (const [q, r] of pairs) expect(r).toBe(q!.replace('question', 'reply'));
    expect(pairs.map(([q]) => q).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `question ${i}`).sort());
  });

  it('session - a turn with tool results goes back to the model that issued the calls', async () => {
    const sessionId = await newSession();
    await decide({ sessionId, intent: intent() });
    await record({ sessionId, question: user('weather in Oslo?'), chosen: llmTarget('big'), servedBy: llmTarget('small'), reply: reply('') });
    const next = await decide({ sessionId, intent: intent(['weather-bot', 0.9]), toolResults: true });
    expect(next).toMatchObject({ agentId: '', pinned: llmTarget('small'), reason: expect.stringContaining('llm:small') });
    // without tool results the turn is routed as usual (here: the agent takes it)
    const routed = await decide({ sessionId, intent: intent(['weather-bot', 0.9]) });
    expect(routed).toMatchObject({ agentId: 'weather-bot', pinned: undefined });
    // tool results for the model's calls still go back to it, and the stored state says so
    expect((await decide({ sessionId, intent: intent(['weather-bot', 0.9]), toolResults: true })).pinned).toEqual(llmTarget('small'));
    expect((await rig.store.get<SessionRecord>(sessionKey(sessionId)))?.value.fsm).toEqual({ kind: 'llm' });
  });

  it('session - decide writes only when the state machine moves', async () => {
    const sessionId = await newSession();
    const v0 = (await rig.store.get<SessionRecord>(sessionKey(sessionId)))!.version;
    await decide({ sessionId, intent: intent() }); // idle → llm: one write
    const v1 = (await rig.store.get<SessionRecord>(sessionKey(sessionId)))!.version;
    await decide({ sessionId, intent: intent() }); // llm → llm: nothing to write
    const v2 = (await rig.store.get<SessionRecord>(sessionKey(sessionId)))!.version;
    expect([v1 - v0, v2 - v1]).toEqual([1, 0]);
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
