// The session handlers on a MemoryStore: explicit creation, stateless turns that never touch the Store, and an
// unknown id refused. (The same handlers over NATS + Redis are exercised in app.test.ts and test/e2e.)
import { Code, MomaError, MemoryBus, MemoryStore, createLogger, type Store } from '@moma/platform';
import { agentTarget, llmTarget } from '@moma/core/rules';
import { DecideRequest, RecordTurnRequest } from '@moma/proto';
import { describe, expect, it } from 'vitest';
import { AgentRegistry } from './registry.ts';
import { MAX_FAILED_MODELS, nextFailedModels, sessionKey, type SessionRecord } from './session.ts';
import { createSession, decideTurn, listSessions, recordTurn, type TurnDeps } from './turns.ts';
import { intent } from './test-support.ts';
import { CardFetcher } from './card-fetch.ts';

function depsWith(store: Store): TurnDeps {
  const logger = createLogger('turns-test', { level: 'silent' });
  const registry = new AgentRegistry({ store, bus: new MemoryBus().connect(), logger, cards: new CardFetcher({ timeoutMs: 1000 }) });
  return { store, registry, sessionTtlSeconds: 60, maxMessages: 50 };
}

/** A Store that counts writes, so "stateless" can be checked as "wrote nothing". */
function countingStore(): { store: Store; writes: () => number } {
  const inner = new MemoryStore();
  let writes = 0;
  const store: Store = {
    get: (key) => inner.get(key),
    list: (prefix) => inner.list(prefix),
    delete: (key) => (writes++, inner.delete(key)),
    put: (key, value, ttl) => (writes++, inner.put(key, value, ttl)),
    compareAndSet: (key, value, expected, ttl) => (writes++, inner.compareAndSet(key, value, expected, ttl)),
    update: (key, fn, ttl) => (writes++, inner.update(key, fn, ttl)),
    take: (limits, now) => (writes++, inner.take(limits, now)),
    add: (id, amounts) => (writes++, inner.add(id, amounts)),
    read: (counters, now) => inner.read(counters, now),
    close: () => inner.close(),
  };
  return { store, writes: () => writes };
}

describe('orchestrator turns - explicit switch', () => {
  it('switch - to an agent that is not registered is NOT_FOUND, naming the agent', async () => {
    const deps = depsWith(new MemoryStore());
    const req = DecideRequest.fromPartial({ intent: intent(), switchTo: agentTarget('nope') });
    await expect(decideTurn(deps, req)).rejects.toMatchObject({ code: Code.NOT_FOUND, message: expect.stringContaining('unknown agent "nope"') });
  });
});

describe('orchestrator turns - sessions', () => {
  it('session - createSession stores an empty idle session under a fresh id with the tenant', async () => {
    const store = new MemoryStore();
    const deps = depsWith(store);
    const a = await createSession(deps, { tenant: 'acme' });
    const b = await createSession(deps, { tenant: '' });
    expect(a.sessionId).not.toBe(b.sessionId);
    const stored = await store.get<SessionRecord>(sessionKey(a.sessionId));
    expect(stored?.value).toMatchObject({ id: a.sessionId, history: [], fsm: { kind: 'idle' }, tenant: 'acme' });
    expect((await store.get<SessionRecord>(sessionKey(b.sessionId)))?.value.tenant).toBeUndefined();
  });

  it('session - a turn without a session id decides from the idle state and writes nothing', async () => {
    const { store, writes } = countingStore();
    const res = await decideTurn(depsWith(store), DecideRequest.fromPartial({ intent: intent() }));
    expect(res.agentId).toBe('');
    expect(res.fsmState).toBe('llm');
    expect(res.history).toEqual([]);
    expect(writes()).toBe(0);
  });

  it('session - a created session takes turns, each recorded as its question and reply; an unknown id is NOT_FOUND', async () => {
    const deps = depsWith(new MemoryStore());
    const { sessionId } = await createSession(deps, { tenant: '' });
    await decideTurn(deps, DecideRequest.fromPartial({ sessionId, intent: intent() }));
    await recordTurn(deps, RecordTurnRequest.fromPartial({ sessionId, question: { role: 'user', content: 'one' }, reply: { role: 'assistant', content: 'first' } }));
    const second = await decideTurn(deps, DecideRequest.fromPartial({ sessionId, intent: intent() }));
    expect(second.history.map((m) => m.content)).toEqual(['one', 'first']);
    await expect(decideTurn(deps, DecideRequest.fromPartial({ sessionId: 'never-created', intent: intent() }))).rejects.toMatchObject({
      code: Code.NOT_FOUND,
      message: expect.stringContaining('unknown session never-created'),
    });
  });

  it('session - an over-long tenant is INVALID_ARGUMENT', async () => {
    const err = await createSession(depsWith(new MemoryStore()), { tenant: 'x'.repeat(129) }).catch((e: unknown) => MomaError.from(e));
    expect(err).toMatchObject({ code: Code.INVALID_ARGUMENT, details: { field: 'tenant' } });
  });
});

describe('orchestrator turns - one turn at a time', () => {
  const decideHeld = (deps: TurnDeps, sessionId: string, turnHoldMs = 60_000) => decideTurn(deps, DecideRequest.fromPartial({ sessionId, intent: intent(), turnHoldMs }));
  const record = (deps: TurnDeps, sessionId: string, turnId: string, q: string, failed = false) =>
    recordTurn(
      deps,
      RecordTurnRequest.fromPartial({ sessionId, turnId, failed, question: { role: 'user', content: q }, reply: { role: 'assistant', content: `re: ${q}` } }),
    );

  it('hold - a second turn while one is held is ABORTED; recording releases it; a decide-only call never blocks', async () => {
    const store = new MemoryStore();
    const deps = depsWith(store);
    const { sessionId } = await createSession(deps, { tenant: '' });
    const first = await decideHeld(deps, sessionId);
    expect(first.turnId).not.toBe('');
    await expect(decideHeld(deps, sessionId)).rejects.toMatchObject({ code: Code.ABORTED, message: expect.stringContaining('turn in progress') });
    // POST /v1/route decides without holding: neither blocked nor blocking.
    expect((await decideHeld(deps, sessionId, 0)).turnId).toBe('');
    await record(deps, sessionId, first.turnId, 'one');
    const second = await decideHeld(deps, sessionId);
    await record(deps, sessionId, second.turnId, 'two', true); // a failed turn releases the session and stores nothing
    const third = await decideHeld(deps, sessionId);
    await record(deps, sessionId, third.turnId, 'three');
    expect((await store.get<SessionRecord>(sessionKey(sessionId)))?.value.history.map((m) => m.content)).toEqual(['one', 're: one', 'three', 're: three']);
  });

  it('hold - an expired hold can be taken; the turn that lost it is ABORTED on record and stores nothing', async () => {
    let now = 1_000_000;
    const realNow = Date.now;
    Date.now = () => now;
    try {
      const store = new MemoryStore({ now: () => now });
      const deps = depsWith(store);
      const { sessionId } = await createSession(deps, { tenant: '' });
      const slow = await decideHeld(deps, sessionId, 1000);
      now += 1001;
      const next = await decideHeld(deps, sessionId, 1000);
      await expect(record(deps, sessionId, slow.turnId, 'slow')).rejects.toMatchObject({ code: Code.ABORTED });
      await record(deps, sessionId, next.turnId, 'next');
      expect((await store.get<SessionRecord>(sessionKey(sessionId)))?.value.history.map((m) => m.content)).toEqual(['next', 're: next']);
    } finally {
      Date.now = realNow;
    }
  });
});

describe('orchestrator turns - the previous model and the failed ones', () => {
  const turnWith = (deps: TurnDeps, sessionId: string, parts: Partial<RecordTurnRequest>) =>
    recordTurn(deps, RecordTurnRequest.fromPartial({ sessionId, question: { role: 'user', content: 'q' }, reply: { role: 'assistant', content: 'a' }, ...parts }));
  const decide = (deps: TurnDeps, sessionId: string) => decideTurn(deps, DecideRequest.fromPartial({ sessionId, intent: intent() }));

  it('models - Decide returns the model that answered the last turn and those that failed in the session until they answer again', async () => {
    const deps = depsWith(new MemoryStore());
    const { sessionId } = await createSession(deps, { tenant: '' });
    const first = await decide(deps, sessionId);
    expect(first.previousModel).toBeUndefined();
    expect(first.failedModels).toEqual([]);
    // The chosen model failed; the executor fell back to the next one, which answered.
    await turnWith(deps, sessionId, { chosen: llmTarget('big'), servedBy: llmTarget('mid'), failedTargets: [llmTarget('big')] });
    const second = await decide(deps, sessionId);
    expect(second.previousModel).toEqual(llmTarget('mid'));
    expect(second.failedModels).toEqual([llmTarget('big')]);
    // A turn that failed entirely adds what it tried and leaves the previous model as it was.
    await turnWith(deps, sessionId, { failed: true, chosen: llmTarget('mid'), failedTargets: [llmTarget('mid'), llmTarget('small'), agentTarget('bot')] });
    const third = await decide(deps, sessionId);
    expect(third.previousModel).toEqual(llmTarget('mid'));
    expect(third.failedModels).toEqual([llmTarget('big'), llmTarget('mid'), llmTarget('small')]);
    // A failed model that answers works again; an agent's answer is no previous model for LLM routing.
    await turnWith(deps, sessionId, { chosen: llmTarget('big'), servedBy: llmTarget('big') });
    expect((await decide(deps, sessionId)).failedModels).toEqual([llmTarget('mid'), llmTarget('small')]);
    await turnWith(deps, sessionId, { chosen: agentTarget('bot'), servedBy: agentTarget('bot'), agentState: 'completed' });
    expect((await decide(deps, sessionId)).previousModel).toBeUndefined();
  });

  it('models - the session remembers at most MAX_FAILED_MODELS failed models, the newest', () => {
    const many = Array.from({ length: MAX_FAILED_MODELS + 3 }, (_, i) => `m${i}`);
    expect(nextFailedModels([], many, undefined)).toEqual(many.slice(3));
    expect(nextFailedModels(['a', 'b'], ['a'], 'b')).toEqual(['a']);
  });
});

describe('orchestrator turns - listSessions (the dashboard)', () => {
  const record = (id: string, over: Partial<SessionRecord>): SessionRecord => ({
    id,
    history: [],
    fsm: { kind: 'idle' },
    createdAt: 1000,
    updatedAt: 1000,
    ...over,
  });

  it('lists the most recently active first, with FSM state, user turns, what served last, and the tenant filter', async () => {
    const store = new MemoryStore();
    const user = (content: string) => ({ role: 'user', content });
    const assistant = (content: string) => ({ role: 'assistant', content });
    await store.put(sessionKey('s-old'), record('s-old', { updatedAt: 1000, tenant: 'acme' }), 60);
    await store.put(
      sessionKey('s-llm'),
      record('s-llm', { updatedAt: 3000, fsm: { kind: 'llm' }, history: [user('a'), assistant('b'), user('c'), assistant('d')], lastServedBy: llmTarget('gpt-4o') }),
      60,
    );
    await store.put(
      sessionKey('s-agent'),
      record('s-agent', {
        updatedAt: 2000,
        tenant: 'acme',
        history: [user('weather?')],
        fsm: { kind: 'awaiting_input', agentId: 'weather', taskId: 't', contextId: 'c' },
        lastServedBy: agentTarget('weather'),
      }),
      60,
    );
    const deps = depsWith(store);
    const all = await listSessions(deps, { limit: 0, tenant: '' });
    expect(all.total).toBe(3);
    expect(all.sessions).toEqual([
      { sessionId: 's-llm', tenant: '', fsmState: 'llm', turns: 2, lastServedBy: 'llm:gpt-4o', updatedAtMs: 3000 },
      { sessionId: 's-agent', tenant: 'acme', fsmState: 'awaiting_input(weather)', turns: 1, lastServedBy: 'agent:weather', updatedAtMs: 2000 },
      { sessionId: 's-old', tenant: 'acme', fsmState: 'idle', turns: 0, lastServedBy: '', updatedAtMs: 1000 },
    ]);
    // `limit` caps the page, `total` still counts them all; a tenant sees only its own.
    const one = await listSessions(deps, { limit: 1, tenant: '' });
    expect([one.total, one.sessions.map((x) => x.sessionId)]).toEqual([3, ['s-llm']]);
    expect((await listSessions(deps, { limit: 10, tenant: 'acme' })).sessions.map((x) => x.sessionId)).toEqual(['s-agent', 's-old']);
    expect((await listSessions(deps, { limit: 10, tenant: 'globex' })).total).toBe(0);
  });

  it('a limit outside 1..200 is INVALID_ARGUMENT naming the field', async () => {
    const deps = depsWith(new MemoryStore());
    for (const limit of [-1, 201]) {
      await expect(listSessions(deps, { limit, tenant: '' })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('limit') });
    }
  });
});
