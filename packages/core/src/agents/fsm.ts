import type { Target } from '@moma/proto/common';
import { agentIdOf, isLlm } from '../rules/target.ts';
import type { ClassifyResult } from './types.ts';
import { maskCandidates, tenantMayUse, type AgentAvailability } from './mask.ts';

/** Where a session's conversation is: with nobody, with the LLM path, or with an agent (possibly mid-task). */
export type FsmState =
  | { kind: 'idle' }
  | { kind: 'llm' }
  | { kind: 'engaged'; agentId: string; contextId?: string }
  | { kind: 'awaiting_input'; agentId: string; taskId: string; contextId: string }
  | { kind: 'handed_off'; from: string; agentId: string };

export interface AgentTurnInput {
  state: FsmState;
  classify: ClassifyResult;
  /** Explicit user switch: an agent target hands the conversation to it, an LLM target releases it. */
  switchTo?: Target;
  tenant: string;
  agents: ReadonlyMap<string, AgentAvailability>;
  disableAgents?: boolean;
}

export interface AgentTurnDecision {
  /** The agent that takes this turn, or null for LLM routing. */
  agentId: string | null;
  next: FsmState;
  masked: Array<{ agentId: string; reason: string }>;
  reason: string;
  /**
   * When another agent takes the conversation from the holder, by which rule: `user` (switch_to), `turn` (the
   * turn alone, turnMargin), `shift` (the shift detector's margin) or `margin` (switchMargin / awaitingMargin).
   */
  handoff?: 'user' | 'turn' | 'shift' | 'margin';
}

export interface FsmPolicy {
  /** Another agent takes over an engaged conversation only when its score beats the engaged agent's by this much. */
  switchMargin: number;
  /** The same while the engaged agent waits for input (input-required): harder to interrupt. */
  awaitingMargin: number;
  /**
   * An engaged agent keeps an out-of-scope turn while its own score is at least this; below it the turn goes to
   * the LLM (the user changed topic). 0 keeps every such turn with the agent.
   */
  stayThreshold: number;
  /** When the classifier's shift probability reaches this, the user is taken to start a new task … */
  shiftThreshold: number;
  /** … and a challenger then needs only this margin over the holder (may be negative). */
  shiftMargin: number;
  /**
   * The turn's own evidence: when the candidates carry `turnScore` (the turn scored without its context), a
   * challenger whose turn score beats the holder's turn score by this much takes over, in any holder state, whatever
   * the context-blended scores say ("and book me a cab there" after a restaurant booking). Above 1 it never fires.
   */
  turnMargin: number;
}

/**
 * turnMargin 0.1: what the knobs' fit on SGD train dialogues picks; on SGD dev it took service-change turns from
 * 64% to 79% with the fitted knobs and from 31% to 65% with these defaults (docs/agent-routing.md).
 */
export const DEFAULT_FSM_POLICY: FsmPolicy = { switchMargin: 0.1, awaitingMargin: 0.3, stayThreshold: 0.1, shiftThreshold: 0.5, shiftMargin: 0, turnMargin: 0.1 };

/** The agent currently holding the conversation, if any. */
export function heldBy(state: FsmState): string | null {
  return state.kind === 'engaged' || state.kind === 'awaiting_input' || state.kind === 'handed_off' ? state.agentId : null;
}

export function fsmStateName(state: FsmState): string {
  switch (state.kind) {
    case 'idle':
    case 'llm':
      return state.kind;
    case 'engaged':
      return `engaged(${state.agentId})`;
    case 'awaiting_input':
      return `awaiting_input(${state.agentId})`;
    case 'handed_off':
      return `handed_off(${state.from}→${state.agentId})`;
  }
}

const f = (x: number): string => x.toFixed(3);

/** Moves the conversation to `to` from the current state. */
function engage(state: FsmState, to: string): FsmState {
  const from = heldBy(state);
  if (from === to) return state.kind === 'handed_off' ? { kind: 'engaged', agentId: to } : state;
  return from ? { kind: 'handed_off', from, agentId: to } : { kind: 'engaged', agentId: to };
}

/**
 * One turn of the context-aware state machine (pure): masks the candidates, then keeps, hands over or releases
 * the conversation. The mask and a one-line reason go into the decision (and onto the trace).
 */
export function decideAgentTurn(input: AgentTurnInput, policy: Partial<FsmPolicy> = {}): AgentTurnDecision {
  const p = { ...DEFAULT_FSM_POLICY, ...policy };
  const { state, classify } = input;
  const { allowed, masked } = maskCandidates(classify.candidates, input);
  const held = heldBy(state);
  const heldWhy = held !== null ? (input.disableAgents ? 'disabled' : availabilityReason(held, input)) : null;
  const heldOk = held !== null && heldWhy === null;

  if (input.disableAgents) return { agentId: null, next: { kind: 'llm' }, masked, reason: 'agents disabled for this request' };

  if (isLlm(input.switchTo)) return { agentId: null, next: { kind: 'llm' }, masked, reason: 'user switched to LLM' };
  const switchAgent = agentIdOf(input.switchTo);
  if (switchAgent !== null) {
    const target = switchAgent;
    const why = masked.find((m) => m.agentId === target)?.reason ?? availabilityReason(target, input);
    if (!why) return { agentId: target, next: engage(state, target), masked, reason: `user switched to agent ${target}`, ...(heldOk && held !== target ? { handoff: 'user' as const } : {}) };
    masked.push({ agentId: target, reason: `requested by user but ${why}` });
  }

  const best = allowed[0];
  if (held === null || !heldOk) {
    const lost = held !== null ? `agent ${held} ${heldWhy ?? 'unavailable'}; ` : '';
    if (best && classify.inScope && best.score >= classify.threshold) {
      return { agentId: best.agentId, next: engage(heldOk ? state : { kind: 'idle' }, best.agentId), masked, reason: `${lost}${best.agentId} in scope (${f(best.score)} ≥ ${f(classify.threshold)})` };
    }
    const why = best
      ? `no agent in scope (best ${best.agentId} ${f(best.score)} < ${f(classify.threshold)})`
      : classify.candidates.length === 0
        ? 'no agent candidates'
        : 'every candidate agent masked';
    return { agentId: null, next: { kind: 'llm' }, masked, reason: `${lost}${why}` };
  }

  const heldCandidate = classify.candidates.find((c) => c.agentId === held);
  const heldScore = heldCandidate?.score ?? 0;
  if (p.turnMargin <= 1) {
    const heldTurn = heldCandidate?.turnScore ?? 0;
    let byTurn: (typeof allowed)[number] | undefined;
    for (const c of allowed) if (c.agentId !== held && c.turnScore !== undefined && (!byTurn || c.turnScore > byTurn.turnScore!)) byTurn = c;
    if (byTurn && byTurn.turnScore! >= classify.threshold && byTurn.turnScore! >= heldTurn + p.turnMargin) {
      return {
        agentId: byTurn.agentId,
        next: engage(state, byTurn.agentId),
        masked,
        reason: `${byTurn.agentId} ${f(byTurn.turnScore!)} clears ${held} ${f(heldTurn)} on the turn alone by margin ${f(p.turnMargin)}`,
        handoff: 'turn',
      };
    }
  }
  const shifted = classify.shift !== undefined && classify.shift >= p.shiftThreshold;
  const margin = shifted ? p.shiftMargin : state.kind === 'awaiting_input' ? p.awaitingMargin : p.switchMargin;
  const challenger = allowed.find((c) => c.agentId !== held);
  if (challenger && challenger.score >= classify.threshold && challenger.score >= heldScore + margin) {
    return {
      agentId: challenger.agentId,
      next: engage(state, challenger.agentId),
      masked,
      reason: `${challenger.agentId} ${f(challenger.score)} clears ${held} ${f(heldScore)} by margin ${f(margin)}${shifted ? ` (topic shift ${f(classify.shift!)})` : ''}`,
      handoff: shifted ? 'shift' : 'margin',
    };
  }
  // the holder keeps the turn: every other candidate is masked by the state
  for (const c of allowed) if (c.agentId !== held) masked.push({ agentId: c.agentId, reason: `${held} holds the conversation (${f(c.score)} < ${f(heldScore)} + ${f(margin)})` });
  if (state.kind !== 'awaiting_input' && !classify.inScope && heldScore < p.stayThreshold) {
    return { agentId: null, next: { kind: 'llm' }, masked, reason: `topic left ${held} (${f(heldScore)} < stay ${f(p.stayThreshold)}) and no agent in scope` };
  }
  const next: FsmState = state.kind === 'handed_off' ? { kind: 'engaged', agentId: held } : state;
  return { agentId: held, next, masked, reason: state.kind === 'awaiting_input' ? `${held} awaits input for task ${state.taskId}` : `${held} keeps the conversation` };
}

function availabilityReason(id: string, input: AgentTurnInput): string | null {
  const a = input.agents.get(id);
  if (!a) return 'not registered';
  if (!a.healthy) return 'unhealthy';
  if (!tenantMayUse(a.tenants, input.tenant)) return `not permitted for tenant ${input.tenant}`;
  return null;
}

/**
 * Applies the A2A task state an agent returned. input-required / auth-required keep the conversation with the agent
 * (awaiting_input); submitted / working keep it engaged; completed releases the task but leaves the agent engaged
 * (it must be re-earned against a margin, and an off-topic turn goes to the LLM); canceled releases it entirely;
 * failed / rejected fall back to the LLM path.
 */
export function applyAgentOutcome(state: FsmState, outcome: { agentId: string; taskState: string; taskId?: string; contextId?: string }): FsmState {
  const { agentId, taskState } = outcome;
  const contextId = outcome.contextId ?? (state.kind === 'awaiting_input' || state.kind === 'engaged' ? state.contextId : undefined);
  switch (taskState) {
    case 'input-required':
    case 'auth-required':
      if (outcome.taskId) return { kind: 'awaiting_input', agentId, taskId: outcome.taskId, contextId: contextId ?? outcome.taskId };
      return contextId ? { kind: 'engaged', agentId, contextId } : { kind: 'engaged', agentId };
    case 'submitted':
    case 'working':
    case 'completed':
    case 'unknown':
      return contextId ? { kind: 'engaged', agentId, contextId } : { kind: 'engaged', agentId };
    case 'canceled':
      return { kind: 'idle' };
    case 'failed':
    case 'rejected':
      return { kind: 'llm' };
    default:
      return state;
  }
}
