import { describe, expect, it } from 'vitest';
import { applyAgentOutcome, decideAgentTurn, fsmStateName, type AgentTurnInput, type FsmState } from './fsm.ts';
import { agentTarget, llmTarget } from '../rules/target.ts';
import type { AgentAvailability } from './mask.ts';
import type { ClassifyResult } from './types.ts';

const T = 0.5;
function cls(scores: Record<string, number>): ClassifyResult {
  const candidates = Object.entries(scores)
    .map(([agentId, score]) => ({ agentId, score, category: 'c' }))
    .sort((a, b) => b.score - a.score);
  return { categories: [{ category: 'c', score: candidates[0]?.score ?? 0 }], candidates, inScope: (candidates[0]?.score ?? 0) >= T, threshold: T };
}
const up: AgentAvailability = { healthy: true, tenants: [] };
const agents = new Map<string, AgentAvailability>([
  ['weather', up],
  ['flights', up],
  ['bank', { healthy: true, tenants: ['acme'] }],
  ['broken', { healthy: false, tenants: [] }],
]);
const idle: FsmState = { kind: 'idle' };
const engagedW: FsmState = { kind: 'engaged', agentId: 'weather' };
const awaitingW: FsmState = { kind: 'awaiting_input', agentId: 'weather', taskId: 't1', contextId: 'c1' };
const policy = { switchMargin: 0.1, awaitingMargin: 0.3, stayThreshold: 0.2 };

function turn(state: FsmState, scores: Record<string, number>, extra: Partial<AgentTurnInput> = {}) {
  return decideAgentTurn({ state, classify: cls(scores), tenant: 'other', agents, ...extra }, policy);
}

describe('agents fsm - decideAgentTurn', () => {
  it.each<[string, FsmState, Record<string, number>, Partial<AgentTurnInput>, string | null, string]>([
    ['idle, in scope → engaged', idle, { weather: 0.8, flights: 0.3 }, {}, 'weather', 'engaged(weather)'],
    ['idle, out of scope → llm', idle, { weather: 0.3 }, {}, null, 'llm'],
    ['llm, in scope → engaged', { kind: 'llm' }, { flights: 0.9 }, {}, 'flights', 'engaged(flights)'],
    ['engaged keeps a weaker challenger', engagedW, { flights: 0.65, weather: 0.6 }, {}, 'weather', 'engaged(weather)'],
    ['engaged hands off when margin cleared', engagedW, { flights: 0.8, weather: 0.6 }, {}, 'flights', 'handed_off(weather→flights)'],
    ['engaged keeps a low in-between turn', engagedW, { weather: 0.3, flights: 0.25 }, {}, 'weather', 'engaged(weather)'],
    ['engaged releases to llm on topic change', engagedW, { weather: 0.05, flights: 0.1 }, {}, null, 'llm'],
    ['awaiting keeps a challenger within the larger margin', awaitingW, { flights: 0.8, weather: 0.6 }, {}, 'weather', 'awaiting_input(weather)'],
    ['awaiting keeps even an off-topic turn', awaitingW, { flights: 0.1 }, {}, 'weather', 'awaiting_input(weather)'],
    ['awaiting yields to overwhelming evidence', awaitingW, { flights: 0.95, weather: 0.5 }, {}, 'flights', 'handed_off(weather→flights)'],
    ['handed_off settles into engaged', { kind: 'handed_off', from: 'weather', agentId: 'flights' }, { flights: 0.7 }, {}, 'flights', 'engaged(flights)'],
    ['explicit switch to llm', engagedW, { weather: 0.9 }, { switchTo: llmTarget('') }, null, 'llm'],
    ['explicit switch to agent', engagedW, { weather: 0.9 }, { switchTo: agentTarget('flights') }, 'flights', 'handed_off(weather→flights)'],
    ['explicit switch from idle', idle, {}, { switchTo: agentTarget('flights') }, 'flights', 'engaged(flights)'],
    ['explicit switch to unhealthy agent is refused', idle, { weather: 0.9 }, { switchTo: agentTarget('broken') }, 'weather', 'engaged(weather)'],
    ['agents disabled', engagedW, { weather: 0.9 }, { disableAgents: true }, null, 'llm'],
    ['unhealthy holder is released', { kind: 'engaged', agentId: 'broken' }, { weather: 0.9 }, {}, 'weather', 'engaged(weather)'],
    ['holder not retrieved counts as zero evidence', engagedW, { flights: 0.7 }, {}, 'flights', 'handed_off(weather→flights)'],
  ])('%s', (_name, state, scores, extra, agentId, next) => {
    const d = turn(state, scores, extra);
    expect(d.agentId).toBe(agentId);
    expect(fsmStateName(d.next)).toBe(next);
    expect(d.reason.length).toBeGreaterThan(0);
  });

  it('agents fsm - keeping the holder masks the others with the margin as reason', () => {
    const d = turn(engagedW, { flights: 0.65, weather: 0.6 });
    expect(d.masked).toEqual([{ agentId: 'flights', reason: expect.stringContaining('weather holds the conversation') }]);
  });

  it('agents fsm - a turn that on its own points to another agent takes the conversation over (turnMargin)', () => {
    // the context-blended scores still favour the holder; the turn alone ("and a flight there") does not
    const classify = (flightsTurn: number): ClassifyResult => ({
      ...cls({ weather: 0.7, flights: 0.55 }),
      candidates: [
        { agentId: 'weather', score: 0.7, category: 'c', turnScore: 0.1 },
        { agentId: 'flights', score: 0.55, category: 'c', turnScore: flightsTurn },
      ],
    });
    for (const state of [engagedW, awaitingW]) {
      const d = decideAgentTurn({ state, classify: classify(0.8), tenant: 'other', agents }, { ...policy, turnMargin: 0.1 });
      expect(d.agentId).toBe('flights');
      expect(fsmStateName(d.next)).toBe('handed_off(weather→flights)');
      expect(d.reason).toContain('on the turn alone');
      expect(d.handoff).toBe('turn');
    }
    expect(turn(engagedW, { flights: 0.8, weather: 0.6 }).handoff).toBe('margin');
    expect(turn(engagedW, { weather: 0.9 }, { switchTo: agentTarget('flights') }).handoff).toBe('user');
    expect(turn(engagedW, { weather: 0.9, flights: 0.5 }).handoff).toBeUndefined();
    expect(turn(idle, { weather: 0.9 }).handoff).toBeUndefined();
    // not enough on its own: within the margin, below the in-scope threshold, or the rule off
    expect(decideAgentTurn({ state: engagedW, classify: classify(0.15), tenant: 'other', agents }, { ...policy, turnMargin: 0.1 }).agentId).toBe('weather');
    expect(decideAgentTurn({ state: engagedW, classify: classify(0.45), tenant: 'other', agents }, { ...policy, turnMargin: 0.1 }).agentId).toBe('weather');
    expect(decideAgentTurn({ state: engagedW, classify: classify(0.8), tenant: 'other', agents }, { ...policy, turnMargin: 2 }).agentId).toBe('weather');
    // without turn scores (no context was blended) only the margins apply
    expect(decideAgentTurn({ state: engagedW, classify: cls({ weather: 0.7, flights: 0.55 }), tenant: 'other', agents }, { ...policy, turnMargin: 0 }).agentId).toBe('weather');
  });

  it('agents fsm - awaiting_input keeps task and context ids', () => {
    const d = turn(awaitingW, { weather: 0.9 });
    expect(d.next).toEqual(awaitingW);
  });
});

describe('agents fsm - masking', () => {
  it.each<[string, string, Record<string, number>, string | null, Array<[string, RegExp]>]>([
    ['unhealthy agent masked', 'other', { broken: 0.9, weather: 0.7 }, 'weather', [['broken', /unhealthy/]]],
    ['tenant not permitted', 'other', { bank: 0.9, weather: 0.6 }, 'weather', [['bank', /not permitted for tenant other/]]],
    ['permitted tenant passes', 'acme', { bank: 0.9, weather: 0.6 }, 'bank', []],
    ['unregistered agent masked', 'other', { ghost: 0.9 }, null, [['ghost', /not registered/]]],
  ])('agents mask - %s', (_name, tenant, scores, agentId, reasons) => {
    const d = turn(idle, scores, { tenant });
    expect(d.agentId).toBe(agentId);
    for (const [id, re] of reasons) expect(d.masked.find((m) => m.agentId === id)?.reason).toMatch(re);
    if (reasons.length === 0) expect(d.masked).toEqual([]);
  });

  it('agents mask - disabled agents are all masked', () => {
    const d = turn(idle, { weather: 0.9, flights: 0.8 }, { disableAgents: true });
    expect(d.masked.map((m) => m.agentId).sort()).toEqual(['flights', 'weather']);
  });
});

describe('agents fsm - applyAgentOutcome', () => {
  it.each<[string, FsmState, string, string | undefined, string]>([
    ['input-required waits for input', engagedW, 'input-required', 't9', 'awaiting_input(weather)'],
    ['auth-required waits too', engagedW, 'auth-required', 't9', 'awaiting_input(weather)'],
    ['input-required without task id stays engaged', engagedW, 'input-required', undefined, 'engaged(weather)'],
    ['working stays engaged', awaitingW, 'working', 't1', 'engaged(weather)'],
    ['completed releases the task', awaitingW, 'completed', 't1', 'engaged(weather)'],
    ['canceled goes idle', awaitingW, 'canceled', 't1', 'idle'],
    ['failed falls back to llm', engagedW, 'failed', 't1', 'llm'],
    ['rejected falls back to llm', engagedW, 'rejected', 't1', 'llm'],
    ['unknown string leaves the state', engagedW, 'bogus', 't1', 'engaged(weather)'],
  ])('%s', (_name, state, taskState, taskId, next) => {
    expect(fsmStateName(applyAgentOutcome(state, { agentId: 'weather', taskState, ...(taskId ? { taskId } : {}) }))).toBe(next);
  });

  it('agents fsm - awaiting_input carries the A2A ids', () => {
    expect(applyAgentOutcome(idle, { agentId: 'w', taskState: 'input-required', taskId: 't', contextId: 'c' })).toEqual({ kind: 'awaiting_input', agentId: 'w', taskId: 't', contextId: 'c' });
    expect(applyAgentOutcome(awaitingW, { agentId: 'weather', taskState: 'completed' })).toEqual({ kind: 'engaged', agentId: 'weather', contextId: 'c1' });
  });
});

describe('agents fsm - topic shift', () => {
  it.each<[string, number | undefined, string]>([
    ['no shift score: the margin applies', undefined, 'weather'],
    ['low shift: the margin applies', 0.2, 'weather'],
    ['shift: a challenger within the shift margin takes over', 0.9, 'flights'],
  ])('%s', (_name, shift, agentId) => {
    const c = { ...cls({ weather: 0.6, flights: 0.58 }), ...(shift !== undefined ? { shift } : {}) };
    const d = decideAgentTurn({ state: awaitingW, classify: c, tenant: 'x', agents }, { ...policy, shiftThreshold: 0.5, shiftMargin: -0.05 });
    expect(d.agentId).toBe(agentId);
  });
});
