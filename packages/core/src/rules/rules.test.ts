// Table-driven tests of the decision rules (@moma/core/rules), one table per rule with its edges. Inputs are built
// from the real contract messages (@moma/proto), as the services build them.
import {
  Candidate,
  Capability,
  ChatMessage,
  ClassifyResponse,
  DecideResponse,
  RecordTurnRequest,
  RouteOptions,
  RoutingMode,
  ScoreResponse,
  Target,
  TargetKind,
} from '@moma/proto';
import { describe, expect, it } from 'vitest';
import { expectInvalid } from '../testing.ts';
import {
  agentIdOf,
  agentOutcome,
  agentTarget,
  carriesOnlyNewTurn,
  checkSessionId,
  checkTenant,
  composeDecision,
  isAgent,
  isLlm,
  isValidSessionId,
  llmTarget,
  MAX_TENANT_CHARS,
  mergeConversation,
  modeName,
  parseSwitchTo,
  parseTarget,
  routingMode,
  sameTarget,
  skipOrchestrator,
  targetText,
  tenantMayUse,
  validateMessages,
  validateSampling,
  validateTurn,
  type AgentOutcome,
  type DecisionParts,
  type SkipInput,
  type Turn,
  validateRequestParts,
  contentText,
  requiredCapabilities,
} from './index.ts';

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const msg = (role: string, content: string): ChatMessage => ChatMessage.fromPartial({ role, content });
const sys = (content = 'be brief') => msg('system', content);
const dev = (content = 'use JSON') => msg('developer', content);
const user = (content: string) => msg('user', content);
const asst = (content: string) => msg('assistant', content);

const llm = (id: string, quality: number, cost: number, utility = quality): Candidate =>
  Candidate.fromPartial({ target: { kind: TargetKind.TARGET_KIND_LLM, id }, predictedQuality: quality, predictedCostUsd: cost, utility });

const GPT = llm('gpt-4o', 0.9, 0.01, 0.8);
const MINI = llm('gpt-4o-mini', 0.7, 0.001, 0.75);

const INTENT = ClassifyResponse.fromPartial({
  categories: [
    { category: 'weather', score: 0.83 },
    { category: 'travel', score: 0.21 },
  ],
  candidates: [
    { agentId: 'weather-bot', score: 0.83, category: 'weather' },
    { agentId: 'travel-bot', score: 0.21, category: 'travel' },
  ],
  inScope: true,
  threshold: 0.5,
});

const SCORE = ScoreResponse.fromPartial({
  ranked: [GPT, MINI],
  mode: RoutingMode.ROUTING_MODE_BALANCED,
  reason: 'balanced: best quality per dollar',
  routerVersion: 'router-v7',
});

const LLM_PATH = DecideResponse.fromPartial({ agentId: '', fsmState: 'llm', reason: 'out of scope' });

function agentPath(agentId: string, extra: Partial<DecideResponse> = {}): DecideResponse {
  return DecideResponse.fromPartial({
    agentId,
    agentUrl: `http://${agentId}.local/a2a`,
    fsmState: `engaged(${agentId})`,
    reason: `engaged ${agentId}`,
    ...extra,
  });
}

function parts(over: Partial<DecisionParts> = {}): DecisionParts {
  return { intent: INTENT, orchestration: LLM_PATH, score: SCORE, sessionId: '', decisionMs: 1.25, ...over };
}

// ---------------------------------------------------------------------------------------------------------------
// decision.ts - composeDecision

describe('decision - composeDecision', () => {
  it('decision - the LLM path chooses the first ranked model and keeps the scoring ranking as is', () => {
    const d = composeDecision(parts());
    expect(d.target).toEqual(GPT.target);
    expect(d.ranked).toEqual(SCORE.ranked);
    expect(d.ranked).toHaveLength(2);
  });

  it('decision - a chosen agent leads with its intent confidence as quality and utility, cost 0, then the LLM ranking as fallbacks', () => {
    const d = composeDecision(parts({ orchestration: agentPath('weather-bot') }));
    expect(d.target).toEqual(agentTarget('weather-bot'));
    expect(d.ranked).toEqual([
      Candidate.fromPartial({ target: agentTarget('weather-bot'), predictedQuality: 0.83, predictedCostUsd: 0, utility: 0.83 }),
      GPT,
      MINI,
    ]);
  });

  it.each<[string, string, ClassifyResponse, number]>([
    ['the second candidate takes its own confidence, not the best one', 'travel-bot', INTENT, 0.21],
    ['an agent missing from the intent candidates gets confidence 0', 'calendar-bot', INTENT, 0],
    ['an agent with no intent candidates at all gets confidence 0', 'weather-bot', ClassifyResponse.fromPartial({}), 0],
    ['an agent with low confidence still leads the ranking with its confidence as quality', 'low-bot',
      ClassifyResponse.fromPartial({ candidates: [{ agentId: 'low-bot', score: 0.02, category: 'misc' }] }), 0.02],
  ])('decision - %s', (_name, agentId, intent, confidence) => {
    const d = composeDecision(parts({ intent, orchestration: agentPath(agentId) }));
    expect(d.target).toEqual(agentTarget(agentId));
    expect(d.ranked[0]).toEqual(Candidate.fromPartial({ target: agentTarget(agentId), predictedQuality: confidence, predictedCostUsd: 0, utility: confidence }));
    // It leads even when every LLM's utility is higher: the orchestrator's choice is not re-ranked.
    expect(d.ranked.slice(1)).toEqual([GPT, MINI]);
  });

  it.each<[string, string, string[]]>([
    ['names the score reason and says to relax the limits', 'all models excluded by allowed_models',
      ['no model satisfies', '(all models excluded by allowed_models)', 'relax allowed_models, max_cost_usd or min_quality']],
    ['with no score reason leaves no empty parentheses', '', ["no model satisfies the request's limits; relax"]],
  ])('decision - an empty ranking with no agent throws InvalidInputError that %s', (_name, reason, messageParts) => {
    const score = ScoreResponse.fromPartial({ ...SCORE, ranked: [], reason });
    const err = expectInvalid(() => composeDecision(parts({ score })), undefined, ...messageParts);
    expect(err.message).not.toContain('()');
  });

  it('decision - an empty ranking with an agent chosen is still a decision, the agent alone', () => {
    const score = ScoreResponse.fromPartial({ ...SCORE, ranked: [], reason: 'all models excluded by max_cost_usd' });
    const d = composeDecision(parts({ score, orchestration: agentPath('weather-bot') }));
    expect(d.target).toEqual(agentTarget('weather-bot'));
    expect(d.ranked).toHaveLength(1);
    expect(d.ranked[0]!.target).toEqual(agentTarget('weather-bot'));
    expect(d.reason).toBe('engaged weather-bot; all models excluded by max_cost_usd');
  });

  it.each<[string, string, string, string]>([
    ['both reasons are joined with "; "', 'engaged weather-bot', 'balanced: best', 'engaged weather-bot; balanced: best'],
    ['an empty orchestrator reason leaves no leading separator', '', 'balanced: best', 'balanced: best'],
    ['an empty score reason leaves no trailing separator', 'out of scope', '', 'out of scope'],
    ['two empty reasons give an empty reason', '', '', ''],
  ])('decision - reasons: %s', (_name, orchestratorReason, scoreReason, expected) => {
    const d = composeDecision(parts({
      orchestration: DecideResponse.fromPartial({ ...LLM_PATH, reason: orchestratorReason }),
      score: ScoreResponse.fromPartial({ ...SCORE, reason: scoreReason }),
    }));
    expect(d.reason).toBe(expected);
  });

  it.each<[string, DecideResponse]>([
    ['LLM path', DecideResponse.fromPartial({ ...LLM_PATH, masked: [{ agentId: 'bank-bot', reason: 'not permitted for tenant acme' }] })],
    ['agent path', agentPath('weather-bot', { fsmState: 'handed_off(travel-bot→weather-bot)', masked: [{ agentId: 'broken-bot', reason: 'unhealthy' }] })],
  ])('decision - the %s carries categories, masked, fsmState, sessionId, decisionMs, routerVersion and mode through', (_name, orchestration) => {
    const score = ScoreResponse.fromPartial({ ...SCORE, mode: RoutingMode.ROUTING_MODE_COST, routerVersion: 'router-v9' });
    const d = composeDecision(parts({ orchestration, score, sessionId: 'sess-42', decisionMs: 3.5 }));
    expect(d.categories).toEqual(INTENT.categories);
    expect(d.masked).toEqual(orchestration.masked);
    expect(d.fsmState).toBe(orchestration.fsmState);
    expect(d.sessionId).toBe('sess-42');
    expect(d.decisionMs).toBe(3.5);
    expect(d.routerVersion).toBe('router-v9');
    expect(d.mode).toBe(RoutingMode.ROUTING_MODE_COST);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// decision.ts - skipOrchestrator

describe('decision - skipOrchestrator', () => {
  const NO_CANDIDATES = ClassifyResponse.fromPartial({ categories: [{ category: 'chitchat', score: 0.1 }] });
  const skip = (over: Partial<SkipInput>): SkipInput => ({ sessionId: '', switchTo: '', disableAgents: false, intent: NO_CANDIDATES, ...over });

  it.each<[string, SkipInput, string]>([
    ['a stateless turn with no candidates skips', skip({}), 'no agent candidates'],
    ['a stateless turn with agents disabled skips even with candidates, saying agents are disabled', skip({ disableAgents: true, intent: INTENT }), 'agents disabled for this request'],
    ['a stateless turn with agents disabled and no candidates skips, saying agents are disabled', skip({ disableAgents: true }), 'agents disabled for this request'],
  ])('orchestrator skip - %s', (_name, input, reason) => {
    const r = skipOrchestrator(input);
    expect(r).not.toBeNull();
    // The skipped answer is the LLM path from the idle state: no agent, nothing to continue, no history.
    expect(r).toEqual(DecideResponse.fromPartial({ agentId: '', agentUrl: '', fsmState: 'llm', masked: [], reason, history: [], agentContextId: '', agentTaskId: '' }));
  });

  it.each<[string, SkipInput]>([
    ['a turn with a session id is asked (the session may be engaged)', skip({ sessionId: 'sess-1' })],
    ['a turn with a session id is asked even with agents disabled', skip({ sessionId: 'sess-1', disableAgents: true })],
    ['a turn with a switch to an agent is asked', skip({ switchTo: 'agent:weather-bot' })],
    ['a turn with a switch to llm is asked', skip({ switchTo: 'llm' })],
    ['a turn with a switch is asked even with agents disabled', skip({ switchTo: 'agent:weather-bot', disableAgents: true })],
    ['a stateless turn with a candidate is asked', skip({ intent: INTENT })],
  ])('orchestrator skip - %s', (_name, input) => {
    expect(skipOrchestrator(input)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// conversation.ts - carriesOnlyNewTurn / mergeConversation

describe('conversation - carriesOnlyNewTurn', () => {
  it.each<[string, ChatMessage[], boolean]>([
    ['one user message is only the new turn', [user('hi')], true],
    ['system and developer prompts with one user message are only the new turn', [sys(), dev(), user('hi')], true],
    ['an assistant turn means a whole conversation', [user('hi'), asst('hello'), user('and?')], false],
    ['an assistant turn alone, before the user, means a whole conversation', [asst('hello'), user('hi')], false],
    ['two user turns mean a whole conversation', [user('hi'), user('again')], false],
    ['no user turn is not a new turn', [sys()], false],
    ['no messages is not a new turn', [], false],
  ])('conversation - %s', (_name, messages, expected) => {
    expect(carriesOnlyNewTurn(messages)).toBe(expected);
  });
});

describe('conversation - mergeConversation', () => {
  const HISTORY = [user('weather in Oslo?'), asst('4°C and rain'), user('and tomorrow?'), asst('sunny')];

  it.each<[string, ChatMessage[], ChatMessage[], ChatMessage[]]>([
    ['no history sends the messages as sent', [sys(), user('hi')], [], [sys(), user('hi')]],
    ['no history sends a whole conversation as sent', [user('a'), asst('b'), user('c')], [], [user('a'), asst('b'), user('c')]],
    ['only the new turn goes after the history', [user('and Bergen?')], HISTORY, [...HISTORY, user('and Bergen?')]],
    ['tool-less session merge: plain user/assistant pairs, then the new turn', [user('q3')], [user('q1'), asst('a1'), user('q2'), asst('a2')],
      [user('q1'), asst('a1'), user('q2'), asst('a2'), user('q3')]],
    ['the system prompt leads, before the history', [sys(), user('and Bergen?')], HISTORY, [sys(), ...HISTORY, user('and Bergen?')]],
    ['system and developer prompts lead in their order', [sys('s'), dev('d'), user('x')], HISTORY, [sys('s'), dev('d'), ...HISTORY, user('x')]],
    ['a prompt sent after the user turn still leads', [user('x'), sys('late')], HISTORY, [sys('late'), ...HISTORY, user('x')]],
    ['a history starting with a system prompt keeps its own and drops the request\'s', [sys('new'), user('x')], [sys('old'), user('q1'), asst('a1')],
      [sys('old'), user('q1'), asst('a1'), user('x')]],
    ['a history starting with a developer prompt keeps its own and drops the request\'s', [sys('new'), dev('new'), user('x')], [dev('old'), user('q1'), asst('a1')],
      [dev('old'), user('q1'), asst('a1'), user('x')]],
    ['a client sending a whole conversation (an assistant turn) is used as is', [user('q1'), asst('a1'), user('q2')], HISTORY, [user('q1'), asst('a1'), user('q2')]],
    ['a client sending two user turns is used as is', [sys(), user('q1'), user('q2')], HISTORY, [sys(), user('q1'), user('q2')]],
  ])('conversation - %s', (_name, messages, history, expected) => {
    const sent = structuredClone(messages);
    const kept = structuredClone(history);
    expect(mergeConversation(messages, history)).toEqual(expected);
    // Neither input is modified.
    expect(messages).toEqual(sent);
    expect(history).toEqual(kept);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// outcome.ts - agentOutcome

describe('outcome - agentOutcome', () => {
  const turn = (over: Partial<RecordTurnRequest>) => RecordTurnRequest.fromPartial({ sessionId: 'sess-1', question: user('q'), ...over });
  const W = agentTarget('weather-bot');
  const G = llmTarget('gpt-4o');

  it.each<[string, RecordTurnRequest, AgentOutcome | null]>([
    ['an LLM chosen and served is no agent outcome', turn({ chosen: G, servedBy: G }), null],
    ['an LLM chosen, another LLM served (fallback) is no agent outcome', turn({ chosen: G, servedBy: llmTarget('gpt-4o-mini') }), null],
    ['an LLM chosen, nothing served is no agent outcome', turn({ chosen: G, failed: true }), null],
    ['nothing chosen, nothing served is no agent outcome', turn({}), null],
    ['an agent served with a state reports that state with its task and context ids',
      turn({ chosen: W, servedBy: W, agentState: 'input-required', agentTaskId: 't1', agentContextId: 'c1' }),
      { agentId: 'weather-bot', taskState: 'input-required', taskId: 't1', contextId: 'c1' }],
    ['an agent served with no state is completed', turn({ chosen: W, servedBy: W, agentContextId: 'c1' }),
      { agentId: 'weather-bot', taskState: 'completed', contextId: 'c1' }],
    ['an agent served with no ids carries none', turn({ chosen: W, servedBy: W, agentState: 'completed' }),
      { agentId: 'weather-bot', taskState: 'completed' }],
    ['an agent served but failed is failed, whatever state it reported', turn({ chosen: W, servedBy: W, agentState: 'completed', agentTaskId: 't1', failed: true }),
      { agentId: 'weather-bot', taskState: 'failed', taskId: 't1' }],
    ['an agent chosen but an LLM served (fallback) fails the chosen agent', turn({ chosen: W, servedBy: G, agentState: 'completed', agentTaskId: 't1' }),
      { agentId: 'weather-bot', taskState: 'failed' }],
    ['an agent chosen and nothing served (all failed) fails the chosen agent', turn({ chosen: W, failed: true }),
      { agentId: 'weather-bot', taskState: 'failed' }],
  ])('outcome - %s', (_name, req, expected) => {
    expect(agentOutcome(req)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// turn.ts - validateMessages / validateSampling / validateTurn / parseSwitchTo / checkSessionId / checkTenant

describe('turn - validateMessages', () => {
  it.each<[string, ChatMessage[]]>([
    ['one user message', [user('hi')]],
    ['system, developer, user, assistant, user', [sys(), dev(), user('a'), asst('b'), user('c')]],
    ['the developer role', [dev(), user('hi')]],
    ['a last user message with text around spaces', [user('  hi  ')]],
    ['an empty earlier message', [asst(''), user('hi')]],
    ['tool results continuing the user turn', [user('weather in Oslo?'), asst(''), msg('tool', '{"temp":3}')]],
  ])('turn - messages accepted: %s', (_name, messages) => {
    expect(() => validateMessages(messages)).not.toThrow();
  });

  it.each<[string, ChatMessage[], string, string]>([
    ['no messages', [], 'messages', 'at least one message'],
    ['an unknown role names its index', [user('a'), msg('function', 'x'), user('b')], 'messages.1.role', '"function"'],
    ['an unknown role at 0', [msg('function', 'x'), user('b')], 'messages.0.role', 'must be one of system, developer, user, assistant, tool'],
    ['an empty role', [msg('', 'x'), user('b')], 'messages.0.role', '""'],
    ['a role in the wrong case', [msg('User', 'x')], 'messages.0.role', '"User"'],
    ['the unknown role is reported before the last-message rule', [user('a'), msg('robot', 'x')], 'messages.1.role', 'robot'],
    ['a last assistant message', [user('a'), asst('b')], 'messages', 'the last message must have role "user" or "tool" (got "assistant")'],
    ['tool results with no user message before them', [sys(), msg('tool', 'x')], 'messages', 'must contain a user message'],
    ['a last system message', [sys()], 'messages', '(got "system")'],
    ['a last developer message', [user('a'), dev()], 'messages', '(got "developer")'],
    ['an empty last user message', [user('')], 'messages', 'non-empty content'],
    ['a whitespace-only last user message', [user(' \n\t ')], 'messages', 'non-empty content'],
  ])('turn - messages rejected: %s', (_name, messages, field, part) => {
    expectInvalid(() => validateMessages(messages), field, `${field}: `, part);
  });
});

describe('turn - validateSampling', () => {
  it.each<[string, number, number | undefined]>([
    ['max_tokens 0 (provider default)', 0, undefined],
    ['max_tokens 1', 1, undefined],
    ['temperature 0', 256, 0],
    ['temperature 2', 256, 2],
    ['temperature 0.7', 256, 0.7],
  ])('turn - sampling accepted: %s', (_name, maxTokens, temperature) => {
    expect(() => validateSampling({ maxTokens, temperature })).not.toThrow();
  });

  it.each<[string, number, number | undefined, string]>([
    ['max_tokens -1', -1, undefined, 'max_tokens'],
    ['max_tokens NaN', Number.NaN, undefined, 'max_tokens'],
    ['temperature 2.01', 256, 2.01, 'temperature'],
    ['temperature -0.01', 256, -0.01, 'temperature'],
    ['temperature NaN', 256, Number.NaN, 'temperature'],
    ['temperature Infinity', 256, Number.POSITIVE_INFINITY, 'temperature'],
    ['max_tokens is checked before temperature', -1, 3, 'max_tokens'],
  ])('turn - sampling rejected: %s', (_name, maxTokens, temperature, field) => {
    expectInvalid(() => validateSampling({ maxTokens, temperature }), field, `${field}: must`);
  });
});

describe('turn - validateTurn', () => {
  const turnWith = (over: Partial<Omit<Turn, 'options'>> = {}, options: Partial<RouteOptions> = {}): Turn => ({
    sessionId: '',
    messages: [sys(), user('weather in Oslo?')],
    options: RouteOptions.fromPartial({ mode: RoutingMode.ROUTING_MODE_BALANCED, tenant: 'acme', ...options }),
    switchTo: '',
    maxTokens: 0,
    temperature: undefined,
    pinnedModel: '',
    ...over,
  });

  it.each<[string, Turn]>([
    ['a minimal stateless turn', turnWith()],
    ['mode unspecified (server default)', turnWith({}, { mode: RoutingMode.ROUTING_MODE_UNSPECIFIED })],
    ['mode quality', turnWith({}, { mode: RoutingMode.ROUTING_MODE_QUALITY })],
    ['mode cost', turnWith({}, { mode: RoutingMode.ROUTING_MODE_COST })],
    ['a session id of 128 characters', turnWith({ sessionId: 'a'.repeat(128) })],
    ['a session id with every allowed character', turnWith({ sessionId: '9aZ._:-x' })],
    ['switch_to llm', turnWith({ switchTo: 'llm' })],
    ['switch_to agent:x', turnWith({ switchTo: 'agent:x' })],
    ['a tenant of 128 characters', turnWith({}, { tenant: 't'.repeat(MAX_TENANT_CHARS) })],
    ['an empty tenant (the default tenant)', turnWith({}, { tenant: '' })],
    ['max_cost_usd 0', turnWith({}, { maxCostUsd: 0 })],
    ['min_quality 0', turnWith({}, { minQuality: 0 })],
    ['min_quality 1', turnWith({}, { minQuality: 1 })],
    ['a tiny willingness_to_pay', turnWith({}, { willingnessToPay: 1e-9 })],
    ['temperature 2', turnWith({ temperature: 2 })],
    ['a pinned model (checked by the gateway against the catalog, not here)', turnWith({ pinnedModel: 'anything/at-all' })],
  ])('turn - accepted: %s', (_name, turn) => {
    expect(() => validateTurn(turn)).not.toThrow();
  });

  it.each<[string, Turn, string]>([
    ['empty messages', turnWith({ messages: [] }), 'messages'],
    ['an unknown role, with its index', turnWith({ messages: [sys(), msg('function', '{}'), user('x')] }), 'messages.1.role'],
    ['a last message that is not the user\'s', turnWith({ messages: [user('x'), asst('y')] }), 'messages'],
    ['a whitespace-only last user message', turnWith({ messages: [user('   ')] }), 'messages'],
    ['max_tokens -1', turnWith({ maxTokens: -1 }), 'max_tokens'],
    ['temperature 2.01', turnWith({ temperature: 2.01 }), 'temperature'],
    ['temperature NaN', turnWith({ temperature: Number.NaN }), 'temperature'],
    ['a mode value outside the enum', turnWith({}, { mode: 7 as RoutingMode }), 'mode'],
    ['the UNRECOGNIZED mode', turnWith({}, { mode: RoutingMode.UNRECOGNIZED }), 'mode'],
    ['a session id of 129 characters', turnWith({ sessionId: 'a'.repeat(129) }), 'session_id'],
    ['a session id starting with "."', turnWith({ sessionId: '.abc' }), 'session_id'],
    ['a session id with a space', turnWith({ sessionId: 'my session' }), 'session_id'],
    ['switch_to agent: with no id', turnWith({ switchTo: 'agent:' }), 'switch_to'],
    ['switch_to foo', turnWith({ switchTo: 'foo' }), 'switch_to'],
    ['a tenant of 129 characters', turnWith({}, { tenant: 't'.repeat(MAX_TENANT_CHARS + 1) }), 'tenant'],
    ['max_cost_usd -0.01', turnWith({}, { maxCostUsd: -0.01 }), 'max_cost_usd'],
    ['max_cost_usd NaN', turnWith({}, { maxCostUsd: Number.NaN }), 'max_cost_usd'],
    ['min_quality 1.01', turnWith({}, { minQuality: 1.01 }), 'min_quality'],
    ['min_quality -0.01', turnWith({}, { minQuality: -0.01 }), 'min_quality'],
    ['min_quality NaN', turnWith({}, { minQuality: Number.NaN }), 'min_quality'],
    ['willingness_to_pay 0 (the choice divides by it)', turnWith({}, { willingnessToPay: 0 }), 'willingness_to_pay'],
    ['willingness_to_pay < 0', turnWith({}, { willingnessToPay: -0.5 }), 'willingness_to_pay'],
    ['willingness_to_pay NaN', turnWith({}, { willingnessToPay: Number.NaN }), 'willingness_to_pay'],
    // The first broken rule is the one reported: messages, sampling, mode, session, switch, tenant, then the limits.
    ['messages are checked before everything else', turnWith({ messages: [], maxTokens: -1, sessionId: '.x' }, { minQuality: 2 }), 'messages'],
    ['the session id is checked before the switch and the limits', turnWith({ sessionId: ' ', switchTo: 'foo' }, { maxCostUsd: -1 }), 'session_id'],
    ['the tenant is checked before the limits', turnWith({}, { tenant: 't'.repeat(200), maxCostUsd: -1 }), 'tenant'],
  ])('turn - rejected: %s', (_name, turn, field) => {
    expectInvalid(() => validateTurn(turn), field, `${field}: `);
  });
});

describe('turn - checkSessionId', () => {
  it.each<[string, string, boolean]>([
    ['one letter is accepted', 'a', true],
    ['one digit is accepted', '7', true],
    ['a uuid is accepted', '3f2b8c1e-9d4a-4c6e-8f00-1a2b3c4d5e6f', true],
    ['128 characters is accepted', 'a'.repeat(128), true],
    ['dots, underscores, colons and dashes after the first character are accepted', 'a._:-b', true],
    ['129 characters is rejected', 'a'.repeat(129), false],
    ['empty is rejected', '', false],
    ['a leading "." is rejected', '.abc', false],
    ['a leading "-" is rejected', '-abc', false],
    ['a leading "_" is rejected', '_abc', false],
    ['a leading ":" is rejected', ':abc', false],
    ['a space inside is rejected', 'my session', false],
    ['a leading space is rejected', ' abc', false],
    ['a trailing newline is rejected', 'abc\n', false],
    ['a slash is rejected', 'a/b', false],
    ['a non-ASCII letter is rejected', 'sessión', false],
  ])('session id - %s', (_name, id, valid) => {
    expect(isValidSessionId(id)).toBe(valid);
    if (valid) expect(() => checkSessionId(id)).not.toThrow();
    else expectInvalid(() => checkSessionId(id), 'session_id', 'session_id: must be 1-128');
  });

  it('session id - the error quotes at most 40 characters of what was sent', () => {
    const err = expectInvalid(() => checkSessionId(`.${'x'.repeat(200)}`), 'session_id');
    expect(err.message).toContain(JSON.stringify(`.${'x'.repeat(39)}`));
    expect(err.message).not.toContain('x'.repeat(40));
  });
});

describe('turn - parseSwitchTo', () => {
  it.each<[string, string, Target | undefined]>([
    ['"" is no switch', '', undefined],
    ['"llm" releases to the LLM path (no model)', 'llm', llmTarget('')],
    ['"agent:x" hands the session to x', 'agent:x', agentTarget('x')],
    ['an agent id may hold dots, colons, underscores and dashes', 'agent:a.b_c:d-e', agentTarget('a.b_c:d-e')],
    ['an agent id of 128 characters', `agent:${'a'.repeat(128)}`, agentTarget('a'.repeat(128))],
  ])('switch_to - %s', (_name, text, expected) => {
    expect(parseSwitchTo(text)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['"agent:" with no id', 'agent:'],
    ['"foo"', 'foo'],
    ['"llm:gpt-4o" (a switch releases to routing, it does not pin a model)', 'llm:gpt-4o'],
    ['"LLM" in the wrong case', 'LLM'],
    ['"agent" with no colon', 'agent'],
    ['an agent id of 129 characters', `agent:${'a'.repeat(129)}`],
    ['an agent id with a space', 'agent:a b'],
    ['a trailing newline', 'llm\n'],
    ['a leading space', ' llm'],
  ])('switch_to - rejects %s', (_name, text) => {
    expectInvalid(() => parseSwitchTo(text), 'switch_to', 'switch_to: must be "llm" or "agent:<id>"');
  });
});

describe('turn - checkTenant', () => {
  it.each<[string, string, boolean]>([
    ['empty (the default tenant) is accepted', '', true],
    ['a name is accepted', 'acme', true],
    ['127 characters is accepted', 't'.repeat(MAX_TENANT_CHARS - 1), true],
    ['128 characters is accepted', 't'.repeat(MAX_TENANT_CHARS), true],
    ['129 characters is rejected', 't'.repeat(MAX_TENANT_CHARS + 1), false],
  ])('tenant - %s', (_name, tenant, valid) => {
    if (valid) expect(() => checkTenant(tenant)).not.toThrow();
    else expectInvalid(() => checkTenant(tenant), 'tenant', `tenant: must be at most ${MAX_TENANT_CHARS} characters`);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// target.ts

describe('target - targetText', () => {
  it.each<[string, Target | undefined, string]>([
    ['an LLM', llmTarget('gpt-4o'), 'llm:gpt-4o'],
    ['an agent', agentTarget('weather-bot'), 'agent:weather-bot'],
    ['the LLM path with an empty id', llmTarget(''), 'llm'],
    ['an unset target', undefined, ''],
    ['a decoded default target (unspecified kind, no id)', Target.fromPartial({}), ''],
    ['a target of unspecified kind, shown as its bare id', Target.fromPartial({ id: 'weather-bot' }), 'weather-bot'],
  ])('target - text of %s', (_name, t, expected) => {
    expect(targetText(t)).toBe(expected);
  });
});

describe('target - parseTarget', () => {
  it.each<[string, Target]>([
    ['an LLM', llmTarget('gpt-4o')],
    ['an LLM with dots and colons', llmTarget('claude-3.5:latest')],
    ['an LLM with an organisation path', llmTarget('meta-llama/Llama-3-8B-Instruct')],
    ['an agent', agentTarget('weather-bot')],
    ['the LLM path', llmTarget('')],
    ['an id of 128 characters', agentTarget('a'.repeat(128))],
  ])('target - %s round-trips through its text', (_name, t) => {
    expect(parseTarget(targetText(t), 'target')).toEqual(t);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['"agent:" with no id', 'agent:'],
    ['"llm:" with no id', 'llm:'],
    ['an unknown kind', 'tool:x'],
    ['no kind', ':x'],
    ['a bare word', 'gpt-4o'],
    ['"LLM" in the wrong case', 'LLM'],
    ['an id with a space', 'agent:a b'],
    ['an id of 129 characters', `agent:${'a'.repeat(129)}`],
  ])('target - parseTarget rejects %s, naming the field it was given', (_name, text) => {
    expectInvalid(() => parseTarget(text, 'x_target'), 'x_target', 'x_target: must be "llm", "llm:<model>" or "agent:<id>"', JSON.stringify(text.slice(0, 80)));
  });
});

describe('target - sameTarget / agentIdOf / isAgent / isLlm', () => {
  it.each<[string, Target | undefined, Target | undefined, boolean]>([
    ['two equal LLMs are the same', llmTarget('gpt-4o'), llmTarget('gpt-4o'), true],
    ['two equal agents are the same', agentTarget('w'), agentTarget('w'), true],
    ['a target decoded from the wire and a built one are the same', Target.fromPartial({ kind: TargetKind.TARGET_KIND_AGENT, id: 'w' }), agentTarget('w'), true],
    ['two LLMs differ', llmTarget('gpt-4o'), llmTarget('gpt-4o-mini'), false],
    ['an LLM and an agent with the same id differ', llmTarget('w'), agentTarget('w'), false],
    ['a target and an unset one differ', llmTarget('gpt-4o'), undefined, false],
    ['an unset one and a target differ', undefined, llmTarget('gpt-4o'), false],
    ['two unset targets are never the same', undefined, undefined, false],
  ])('target - sameTarget: %s', (_name, a, b, expected) => {
    expect(sameTarget(a, b)).toBe(expected);
  });

  it.each<[string, Target | undefined, string | null, boolean, boolean]>([
    ['an agent', agentTarget('weather-bot'), 'weather-bot', true, false],
    ['an LLM', llmTarget('gpt-4o'), null, false, true],
    ['the LLM path', llmTarget(''), null, false, true],
    ['an unset target', undefined, null, false, false],
    ['an unspecified kind', Target.fromPartial({ id: 'weather-bot' }), null, false, false],
  ])('target - agentIdOf %s', (_name, t, id, agent, isLlmTarget) => {
    expect(agentIdOf(t)).toBe(id);
    expect(isAgent(t)).toBe(agent);
    expect(isLlm(t)).toBe(isLlmTarget);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// mode.ts

describe('mode - modeName / routingMode', () => {
  it.each<[RoutingMode, 'quality' | 'balanced' | 'cost']>([
    [RoutingMode.ROUTING_MODE_QUALITY, 'quality'],
    [RoutingMode.ROUTING_MODE_BALANCED, 'balanced'],
    [RoutingMode.ROUTING_MODE_COST, 'cost'],
  ])('mode - enum %s ↔ name %s both ways', (mode, name) => {
    expect(modeName(mode)).toBe(name);
    expect(routingMode(name)).toBe(mode);
    expect(routingMode(modeName(mode))).toBe(mode);
  });

  it('mode - UNSPECIFIED is the server default, balanced', () => {
    expect(modeName(RoutingMode.ROUTING_MODE_UNSPECIFIED)).toBe('balanced');
    expect(routingMode(modeName(RoutingMode.ROUTING_MODE_UNSPECIFIED))).toBe(RoutingMode.ROUTING_MODE_BALANCED);
  });

  it.each<[string, number]>([
    ['UNRECOGNIZED (-1)', RoutingMode.UNRECOGNIZED],
    ['4, past the enum', 4],
    ['99', 99],
    ['NaN', Number.NaN],
  ])('mode - an unknown value %s throws naming mode', (_name, value) => {
    expectInvalid(() => modeName(value as RoutingMode), 'mode', 'mode: unknown mode', 'use quality, balanced or cost');
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['another case', 'Quality'],
    ['the enum spelling', 'ROUTING_MODE_COST'],
    ['auto', 'auto'],
    ['an Object.prototype key', 'toString'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
  ])('mode - an unknown name (%s) throws naming mode', (_name, name) => {
    expectInvalid(() => routingMode(name), 'mode', `mode: unknown mode ${JSON.stringify(name)}`);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// agents/mask.ts - tenantMayUse

describe('tenants - tenantMayUse', () => {
  it.each<[string, string[], string, boolean]>([
    ['an empty list allows anyone', [], 'acme', true],
    ['an empty list allows the default tenant', [], '', true],
    ['"*" allows anyone', ['*'], 'acme', true],
    ['"*" allows the default tenant', ['*'], '', true],
    ['"*" among names allows anyone', ['acme', '*'], 'globex', true],
    ['a list allows its members', ['acme', 'globex'], 'globex', true],
    ['a list refuses others', ['acme', 'globex'], 'initech', false],
    ['a list refuses the default tenant', ['acme'], '', false],
    ['names match exactly (case)', ['acme'], 'ACME', false],
    ['names match exactly (no prefix)', ['acme'], 'acm', false],
  ])('tenants - %s', (_name, tenants, tenant, expected) => {
    expect(tenantMayUse(tenants, tenant)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// request.ts - the parts of the client's request a provider would reject

describe('request - validateRequestParts', () => {
  const call = (id: string) => ({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'f', arguments: '{}' } }] });
  const tool = { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } };
  it.each<[string, Record<string, unknown>]>([
    ['plain text messages', { messages: [{ role: 'user', content: 'hi' }] }],
    ['a tool result answering an earlier call', { messages: [{ role: 'user', content: 'q' }, call('c1'), { role: 'tool', tool_call_id: 'c1', content: 'r' }] }],
    ['image parts by https and data: URL', { messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'https://x.test/a.png' } }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA' } }] }] }],
    ['tools and a json_schema format', { messages: [], tools: [tool], response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object' } } } }],
    ['json_object format', { messages: [], response_format: { type: 'json_object' } }],
  ])('request - accepted: %s', (_name, request) => {
    expect(() => validateRequestParts(request)).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a tool result with no matching call', { messages: [{ role: 'user', content: 'q' }, call('c1'), { role: 'tool', tool_call_id: 'c2', content: 'r' }] }, 'messages.2.tool_call_id'],
    ['a tool result before its call', { messages: [{ role: 'tool', tool_call_id: 'c1', content: 'r' }, call('c1')] }, 'messages.0.tool_call_id'],
    ['a tool call without an id', { messages: [{ role: 'assistant', tool_calls: [{ type: 'function' }] }] }, 'messages.0.tool_calls.0.id'],
    ['an unknown content part type', { messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] }, 'messages.0.content.0.type'],
    ['an image URL that is not http(s) or data:', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }, 'messages.0.content.0.image_url.url'],
    ['a tool without a function name', { messages: [], tools: [{ type: 'function', function: {} }] }, 'tools.0'],
    ['tool parameters that are not an object', { messages: [], tools: [{ type: 'function', function: { name: 'f', parameters: 'x' } }] }, 'tools.0.function.parameters'],
    ['a json_schema whose schema is not an object', { messages: [], response_format: { type: 'json_schema', json_schema: { name: 'a', schema: [1] } } }, 'response_format.json_schema'],
    ['a response_format without a type', { messages: [], response_format: {} }, 'response_format'],
  ])('request - rejected: %s', (_name, request, field) => {
    expectInvalid(() => validateRequestParts(request), field);
  });

  it.each<[string, unknown, string]>([
    ['a string', 'hello', 'hello'],
    ['text parts joined, other parts skipped', [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'https://x' } }, { type: 'text', text: 'b' }], 'a\nb'],
    ['null content (an assistant tool call)', null, ''],
  ])('request - contentText of %s', (_name, content, text) => {
    expect(contentText(content)).toBe(text);
  });
});

describe('decision - pinned model', () => {
  const score = ScoreResponse.fromPartial({
    ranked: [
      { target: llmTarget('big'), predictedQuality: 0.9, predictedCostUsd: 0.01, utility: 1 },
      { target: llmTarget('small'), predictedQuality: 0.6, predictedCostUsd: 0.001, utility: 0.8 },
    ],
    reason: 'ranked',
  });
  const compose = (pinned: Target | undefined, s = score) =>
    composeDecision({ intent: ClassifyResponse.fromPartial({}), orchestration: DecideResponse.fromPartial({ reason: 'tool results', pinned }), score: s, sessionId: 's', decisionMs: 1 });

  it('decision - a pinned model leads the ranking with its own predictions, the rest follow once', () => {
    const d = compose(llmTarget('small'));
    expect(d.target).toEqual(llmTarget('small'));
    expect(d.ranked.map((c) => targetText(c.target))).toEqual(['llm:small', 'llm:big']);
    expect(d.ranked[0]!.predictedQuality).toBe(0.6);
  });

  it('decision - a pinned model the ranking does not hold still leads (limits cannot move a tool loop)', () => {
    const d = compose(llmTarget('other'), ScoreResponse.fromPartial({ ranked: [] }));
    expect(d.ranked.map((c) => targetText(c.target))).toEqual(['llm:other']);
  });
});

describe('request - requiredCapabilities', () => {
  it.each<[string, Record<string, unknown>, Capability[]]>([
    ['plain text needs nothing', { messages: [{ role: 'user', content: 'hi' }] }, []],
    ['an empty tools list needs nothing', { messages: [], tools: [] }, []],
    ['tools', { messages: [], tools: [{ type: 'function', function: { name: 'f' } }] }, [Capability.CAPABILITY_TOOLS]],
    ['an image part', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x' } }] }] }, [Capability.CAPABILITY_VISION]],
    ['json_schema output', { messages: [], response_format: { type: 'json_schema', json_schema: { name: 'a' } } }, [Capability.CAPABILITY_JSON_OUTPUT]],
    ['text output format needs nothing', { messages: [], response_format: { type: 'text' } }, []],
    [
      'all three, in order',
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:x' } }] }], tools: [{}], response_format: { type: 'json_object' } },
      [Capability.CAPABILITY_TOOLS, Capability.CAPABILITY_VISION, Capability.CAPABILITY_JSON_OUTPUT],
    ],
  ])('request - %s', (_name, request, expected) => {
    expect(requiredCapabilities(request)).toEqual(expected);
  });
});
