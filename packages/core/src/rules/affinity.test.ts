// The session re-ranking (affinity.ts) and how composeDecision applies it: the switch cost keeps a conversation on its
// model unless another is better by at least that much; a model that failed in the session goes last.
import { Candidate, ClassifyResponse, DecideResponse, RoutingMode, ScoreResponse, TargetKind } from '@moma/proto';
import { describe, expect, it } from 'vitest';
import { expectInvalid } from '../testing.ts';
import { agentTarget, composeDecision, llmTarget, sessionRanking, targetText, validateTurn, type Turn } from './index.ts';

const llm = (id: string, utility: number, quality = utility, cost = 0.001): Candidate =>
  Candidate.fromPartial({ target: { kind: TargetKind.TARGET_KIND_LLM, id }, predictedQuality: quality, predictedCostUsd: cost, utility });

// Scored best first: big beats mid by 0.010, mid beats small by 0.190.
const BIG = llm('big', 0.8);
const MID = llm('mid', 0.79);
const SMALL = llm('small', 0.6);
const RANKED = [BIG, MID, SMALL];
const ids = (cs: readonly Candidate[]) => cs.map((c) => targetText(c.target));

describe('affinity - sessionRanking', () => {
  const cases: Array<{ name: string; previous?: string; failed?: string[]; switchCost: number; order: string[]; kept: boolean; reason: RegExp | '' }> = [
    { name: 'no previous model: ranked as scored', switchCost: 0.05, order: ['big', 'mid', 'small'], kept: false, reason: '' },
    { name: 'switch cost 0: ranked as scored', previous: 'mid', switchCost: 0, order: ['big', 'mid', 'small'], kept: false, reason: '' },
    {
      name: 'the best is better by less than the switch cost: the previous model stays first',
      previous: 'mid',
      switchCost: 0.05,
      order: ['mid', 'big', 'small'],
      kept: true,
      reason: /^kept llm:mid from the previous turn: llm:big is better by only 0\.010 < switch cost 0\.050$/,
    },
    {
      name: 'the best is clearly better: switched',
      previous: 'small',
      switchCost: 0.05,
      order: ['big', 'mid', 'small'],
      kept: false,
      reason: /^switched from llm:small to llm:big: better by 0\.200 ≥ switch cost 0\.050$/,
    },
    { name: 'a gain equal to the switch cost switches', previous: 'mid', switchCost: 0.01, order: ['big', 'mid', 'small'], kept: false, reason: /^switched/ },
    { name: 'the previous model is the best anyway', previous: 'big', switchCost: 0.05, order: ['big', 'mid', 'small'], kept: false, reason: /^stayed on llm:big/ },
    { name: 'the previous model is not among the candidates', previous: 'gone', switchCost: 0.05, order: ['big', 'mid', 'small'], kept: false, reason: /llm:gone from the previous turn is not eligible/ },
    {
      name: 'a failed model goes last, whatever it scored',
      failed: ['big'],
      switchCost: 0,
      order: ['mid', 'small', 'big'],
      kept: false,
      reason: /^demoted llm:big: failed earlier in this session$/,
    },
    {
      name: 'a previous model that failed gets no bonus',
      previous: 'mid',
      failed: ['mid'],
      switchCost: 1,
      order: ['big', 'small', 'mid'],
      kept: false,
      reason: /^demoted llm:mid: failed earlier in this session$/,
    },
    {
      name: 'the switch cost is weighed among the healthy models',
      previous: 'small',
      failed: ['big'],
      switchCost: 0.25,
      order: ['small', 'mid', 'big'],
      kept: true,
      reason: /^demoted llm:big: .*; kept llm:small from the previous turn: llm:mid is better by only 0\.190 < switch cost 0\.250$/,
    },
    {
      name: 'every model failed: ranked as scored, said so',
      previous: 'mid',
      failed: ['big', 'mid', 'small'],
      switchCost: 0.05,
      order: ['big', 'mid', 'small'],
      kept: false,
      reason: /^every candidate failed earlier in this session/,
    },
  ];
  it.each(cases)('affinity - $name', ({ previous, failed, switchCost, order, kept, reason }) => {
    const r = sessionRanking(RANKED, { previous: previous ? llmTarget(previous) : undefined, failed: (failed ?? []).map(llmTarget), switchCost });
    expect(ids(r.ranked)).toEqual(order.map((m) => `llm:${m}`));
    expect(r.kept).toBe(kept);
    if (reason === '') expect(r.reason).toBe('');
    else expect(r.reason).toMatch(reason);
    // Utilities are the scoring's: the re-ranking moves candidates, it does not rewrite them.
    expect([...r.ranked].sort((a, b) => b.utility - a.utility)).toEqual(RANKED);
  });

  it('affinity - an agent as the previous target is no LLM to stick to', () => {
    const r = sessionRanking(RANKED, { previous: agentTarget('mid'), switchCost: 1 });
    expect(ids(r.ranked)).toEqual(['llm:big', 'llm:mid', 'llm:small']);
    expect(r.reason).toBe('');
  });
});

describe('affinity - composeDecision in a session', () => {
  const score = ScoreResponse.fromPartial({ ranked: RANKED, mode: RoutingMode.ROUTING_MODE_BALANCED, reason: 'balanced: llm:big best', routerVersion: 'v1' });
  const intent = ClassifyResponse.fromPartial({ candidates: [{ agentId: 'weather-bot', score: 0.9, category: 'weather' }] });
  const compose = (orchestration: Partial<DecideResponse>, switchCost: number) =>
    composeDecision({ intent, orchestration: DecideResponse.fromPartial({ fsmState: 'llm', reason: 'out of scope', ...orchestration }), score, sessionId: 's-1', decisionMs: 1, switchCost });

  it('compose - the previous model is kept, and the reason says why, between the orchestrator and the scoring', () => {
    const d = compose({ previousModel: llmTarget('mid') }, 0.05);
    expect(targetText(d.target)).toBe('llm:mid');
    expect(ids(d.ranked)).toEqual(['llm:mid', 'llm:big', 'llm:small']);
    expect(d.reason).toBe('out of scope; kept llm:mid from the previous turn: llm:big is better by only 0.010 < switch cost 0.050; balanced: llm:big best');
  });

  it('compose - without a switch cost the previous model changes nothing (a stateless turn has none)', () => {
    expect(compose({ previousModel: llmTarget('mid') }, 0).ranked).toEqual(RANKED);
    expect(compose({}, 0.05).ranked).toEqual(RANKED);
  });

  it('compose - an agent keeps the turn; the failed model is still last among its fallbacks, with no LLM note', () => {
    const d = compose({ agentId: 'weather-bot', reason: 'engaged', previousModel: llmTarget('mid'), failedModels: [llmTarget('big')] }, 0.05);
    expect(ids(d.ranked)).toEqual(['agent:weather-bot', 'llm:mid', 'llm:small', 'llm:big']);
    expect(d.reason).toBe('engaged; balanced: llm:big best');
  });

  it('compose - tool results stay pinned to their model even when another was the previous one', () => {
    const d = compose({ pinned: llmTarget('small'), previousModel: llmTarget('mid'), failedModels: [llmTarget('big')] }, 0.05);
    expect(ids(d.ranked)).toEqual(['llm:small', 'llm:mid', 'llm:big']);
  });
});

describe('affinity - switch_cost is validated with the turn', () => {
  const turn = (switchCost: number | undefined): Turn => ({
    sessionId: 's-1',
    messages: [{ role: 'user', content: 'hi' }],
    options: { mode: RoutingMode.ROUTING_MODE_UNSPECIFIED, allowedModels: [], deniedModels: [], disableAgents: false, tenant: '', requires: [], ...(switchCost !== undefined ? { switchCost } : {}) },
    switchTo: '',
    maxTokens: 0,
    temperature: undefined,
    pinnedModel: '',
  });
  it.each([undefined, 0, 0.05, 3])('affinity - switch_cost %s is fine', (c) => expect(() => validateTurn(turn(c))).not.toThrow());
  it.each([-0.01, Number.NaN, Number.POSITIVE_INFINITY])('affinity - switch_cost %s is INVALID_ARGUMENT', (c) => {
    expectInvalid(() => validateTurn(turn(c)), 'switch_cost', 'must be a finite number >= 0');
  });
});
