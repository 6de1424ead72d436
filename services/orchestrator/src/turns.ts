// The session handlers of the orchestrator: `create` (explicit, once per conversation), then per turn `decide` (agent or
// none, before execution) and `record` (after execution). Decide reads the session once and takes the session for the
// turn (turn_hold_ms; a second turn meanwhile is ABORTED, HTTP 409); record writes the question and its reply
// together and lets the session go, so the history is always whole pairs in order and a failed turn leaves nothing
// behind. A turn without a session id touches no Store at all.
import { randomUUID } from 'node:crypto';
import {
  agentIdOf,
  agentOutcome,
  applyAgentOutcome,
  checkSessionId,
  checkTenant,
  decideAgentTurn,
  fsmStateName,
  isLlm,
  llmTarget,
  targetText,
  tenantMayUse,
  type ClassifyResult,
  type FsmPolicy,
  type FsmState,
} from '@moma/core';
import { Code, MomaError, type Store } from '@moma/platform';
import type {
  CreateSessionRequest,
  CreateSessionResponse,
  DecideRequest,
  DecideResponse,
  ListSessionsRequest,
  ListSessionsResponse,
  RecordTurnRequest,
  RecordTurnResponse,
} from '@moma/proto';
import { casUpdate } from './cas.ts';
import type { AgentRegistry } from './registry.ts';
import { agentIdsFor, appendHistory, newSession, nextFailedModels, SESSION_KEY_PREFIX, sessionKey, type SessionRecord } from './session.ts';

export interface TurnDeps {
  store: Store;
  registry: AgentRegistry;
  sessionTtlSeconds: number;
  maxMessages: number;
  /** State machine settings over DEFAULT_FSM_POLICY (MOMA_AGENT_TURN_MARGIN). */
  policy?: Partial<FsmPolicy>;
  /** Told of each FSM state change a Decide makes (state kinds), once it is stored. */
  onTransition?: (from: string, to: string) => void;
  /** Told when a Decide hands a conversation to another agent, with the rule that did (AgentTurnDecision.handoff). */
  onHandoff?: (by: string) => void;
}

const NO_INTENT: ClassifyResult = { categories: [], candidates: [], inScope: false, threshold: 0 };

/** Creates an empty session (idle, no history) under a fresh id: one compare-and-set that never overwrites. */
export async function createSession(deps: TurnDeps, req: CreateSessionRequest): Promise<CreateSessionResponse> {
  checkTenant(req.tenant);
  const id = randomUUID();
  const created = await deps.store.compareAndSet(sessionKey(id), newSession(id, Date.now(), req.tenant), 0, deps.sessionTtlSeconds);
  // A v4 uuid colliding with a live session is practically impossible; refuse rather than share someone's state.
  if (!created) throw new MomaError(Code.ABORTED, `session id ${id} already exists; retry`);
  return { sessionId: id };
}

/** A session belongs to the tenant that created it; any other tenant gets NOT_FOUND, exactly as for no session. */
const ownedBy = (s: SessionRecord, tenant: string): boolean => (s.tenant ?? '') === tenant;

function visibleTo(deps: TurnDeps, agentId: string, tenant: string): boolean {
  const agent = deps.registry.get(agentId);
  return agent !== undefined && tenantMayUse(agent.tenants, tenant);
}

/** Runs the state machine for one user turn; persists the new state only when it changed. */
export async function decideTurn(deps: TurnDeps, req: DecideRequest): Promise<DecideResponse> {
  // A switch to an agent nobody registered is a mistake in the request, not something to mask and route around.
  // (A registered agent that is unhealthy or not allowed for the tenant is masked, with the reason, as usual.)
  const switchAgent = agentIdOf(req.switchTo);
  if (switchAgent !== null && !deps.registry.get(switchAgent)) {
    throw new MomaError(Code.NOT_FOUND, `switch_to: unknown agent "${switchAgent}"; GET /v1/agents lists the registered agents`);
  }
  const decideFrom = (state: FsmState) =>
    decideAgentTurn({
      state,
      classify: req.intent ?? NO_INTENT,
      ...(req.switchTo ? { switchTo: req.switchTo } : {}),
      tenant: req.tenant,
      agents: deps.registry.availability(),
      disableAgents: req.disableAgents,
    }, deps.policy);
  const respond = (d: Pick<ReturnType<typeof decideFrom>, 'agentId' | 'next' | 'masked' | 'reason'>, history: DecideResponse['history'], session?: SessionRecord): DecideResponse => {
    const agentId = d.agentId ?? '';
    const ids = d.agentId ? agentIdsFor(d.next, d.agentId) : { contextId: '', taskId: '' };
    return {
      agentId,
      agentUrl: d.agentId ? (deps.registry.get(d.agentId)?.card?.url ?? '') : '',
      fsmState: fsmStateName(d.next),
      // Another tenant's private agents are not this caller's business: not even their ids.
      masked: d.masked.filter((m) => visibleTo(deps, m.agentId, req.tenant)).map((m) => ({ agentId: m.agentId, reason: m.reason })),
      reason: d.reason,
      history,
      agentContextId: ids.contextId,
      agentTaskId: ids.taskId,
      pinned: undefined,
      turnId: '',
      // For the LLM ranking (composeDecision): leaving the previous turn's model costs the switch cost, and models
      // that failed in the session go last.
      previousModel: session && isLlm(session.lastServedBy) ? session.lastServedBy : undefined,
      failedModels: (session?.failedModels ?? []).map(llmTarget),
    };
  };

  if (!req.sessionId) return respond(decideFrom({ kind: 'idle' }), []); // stateless: nothing to read or persist

  checkSessionId(req.sessionId);
  const holdMs = Number(req.turnHoldMs);
  let transition: [string, string] | undefined;
  let handoff: string | undefined;
  const { result } = await casUpdate<SessionRecord, DecideResponse>(
    deps.store,
    sessionKey(req.sessionId),
    (current) => {
      handoff = undefined; // the update may run again after a lost compare-and-set
      if (!current || !ownedBy(current, req.tenant)) throw MomaError.notFound(`unknown session ${req.sessionId}; create one with POST /v1/sessions`);
      const now = Date.now();
      let turn = current.turn && current.turn.until > now ? current.turn : undefined;
      if (holdMs > 0) {
        if (turn) {
          throw new MomaError(Code.ABORTED, `session ${req.sessionId} has a turn in progress; send this turn again when that one has been answered`);
        }
        turn = { id: randomUUID(), until: now + holdMs };
      }
      const held = (r: DecideResponse): DecideResponse => (holdMs > 0 ? { ...r, turnId: turn!.id } : r);
      const base: SessionRecord = { ...current, updatedAt: now };
      if (turn) base.turn = turn;
      else delete base.turn;
      // Tool results go back to the model that issued the tool calls: another model would not know its own calls.
      if (req.toolResults && isLlm(current.lastServedBy)) {
        const model = current.lastServedBy!;
        const d = { agentId: null, next: { kind: 'llm' } as FsmState, masked: [], reason: `tool results go back to ${targetText(model)}, which issued the calls` };
        // The conversation is on the LLM path (as the response says): stored so when it was not already.
        transition = current.fsm.kind === 'llm' ? undefined : [current.fsm.kind, 'llm'];
        return { value: { ...base, fsm: d.next }, result: held({ ...respond(d, current.history, current), pinned: model }), unchanged: holdMs === 0 && current.fsm.kind === 'llm' };
      }
      const d = decideFrom(current.fsm);
      const same = JSON.stringify(d.next) === JSON.stringify(current.fsm);
      transition = same ? undefined : [current.fsm.kind, d.next.kind];
      handoff = d.handoff;
      const unchanged = holdMs === 0 && same;
      return { value: { ...base, fsm: d.next }, result: held(respond(d, current.history, current)), unchanged };
    },
    { ttlSeconds: deps.sessionTtlSeconds },
  );
  if (transition) deps.onTransition?.(...transition);
  if (handoff) deps.onHandoff?.(handoff);
  return result;
}

/** Finishes a turn: appends the question with its reply and applies the agent's outcome to the state machine. */
export async function recordTurn(deps: TurnDeps, req: RecordTurnRequest): Promise<RecordTurnResponse> {
  if (!req.sessionId) throw MomaError.invalidArgument('record needs the session id (stateless calls are not recorded)', { field: 'session_id' });
  checkSessionId(req.sessionId);
  const pair = !req.failed && req.question?.content && req.reply?.content ? [req.question, { role: req.reply.role || 'assistant', content: req.reply.content }] : [];
  const outcome = agentOutcome(req);
  const servedAgent = !req.failed && agentIdOf(req.servedBy) !== null;

  const { result, version } = await casUpdate<SessionRecord, string>(
    deps.store,
    sessionKey(req.sessionId),
    (current) => {
      if (!current || !ownedBy(current, req.tenant)) throw MomaError.notFound(`unknown session ${req.sessionId}`);
      const now = Date.now();
      // Another turn took the session after this one's hold ran out: recording now would interleave the history.
      if (req.turnId && current.turn && current.turn.id !== req.turnId && current.turn.until > now) {
        throw new MomaError(Code.ABORTED, `turn not recorded: its hold on session ${req.sessionId} expired and another turn has it; send the turn again`);
      }
      const fsm = outcome ? applyAgentOutcome(current.fsm, outcome) : current.fsm;
      const next: SessionRecord = { ...current, history: appendHistory(current.history, pair, deps.maxMessages), fsm, updatedAt: now };
      if (req.turnId && current.turn?.id === req.turnId) delete next.turn;
      if (req.chosen) next.lastChosen = req.chosen;
      if (req.servedBy) next.lastServedBy = req.servedBy;
      const failedNow = (req.failedTargets ?? []).filter((t) => isLlm(t) && t.id !== '').map((t) => t.id);
      const served = !req.failed && isLlm(req.servedBy) ? req.servedBy!.id : undefined;
      const failedModels = nextFailedModels(current.failedModels ?? [], failedNow, served);
      if (failedModels.length > 0) next.failedModels = failedModels;
      else delete next.failedModels;
      if (servedAgent) {
        next.agentContextId = req.agentContextId;
        next.agentTaskId = req.agentTaskId;
      } else {
        delete next.agentContextId;
        delete next.agentTaskId;
      }
      return { value: next, result: fsmStateName(fsm) };
    },
    { ttlSeconds: deps.sessionTtlSeconds },
  );
  return { fsmState: result, version };
}

/**
 * The most recently active sessions, newest first, with their state and no message text (an operator's view). It
 * scans the session keys (Store.list): an admin call, cached by the gateway, not for the request path.
 */
export async function listSessions(deps: TurnDeps, req: ListSessionsRequest): Promise<ListSessionsResponse> {
  const limit = req.limit === 0 ? 50 : req.limit;
  if (!(limit >= 1 && limit <= 200)) throw MomaError.invalidArgument('limit must be between 1 and 200', { field: 'limit' });
  const all = (await deps.store.list<SessionRecord>(SESSION_KEY_PREFIX)).map((e) => e.value).filter((s) => !req.tenant || s.tenant === req.tenant);
  all.sort((a, b) => b.updatedAt - a.updatedAt);
  return {
    total: all.length,
    sessions: all.slice(0, limit).map((s) => ({
      sessionId: s.id,
      tenant: s.tenant ?? '',
      fsmState: fsmStateName(s.fsm),
      turns: Math.floor(s.history.filter((m) => m.role === 'user').length),
      lastServedBy: s.lastServedBy ? targetText(s.lastServedBy) : '',
      updatedAtMs: s.updatedAt,
    })),
  };
}
