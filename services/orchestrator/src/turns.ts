// The session handlers of the orchestrator: `create` (explicit, once per conversation), then per turn `decide` (agent or
// none, before execution) and `record` (after execution). Each turn handler is one Store read and one compare-and-set
// when no other turn of the session races it; a turn without a session id touches no Store at all.
import { randomUUID } from 'node:crypto';
import { applyAgentOutcome, decideAgentTurn, fsmStateName, type ClassifyResult, type FsmState } from '@moma/core';
import { Code, MomaError, type Store } from '@moma/platform';
import {
  Decision,
  type CreateSessionRequest,
  type CreateSessionResponse,
  type OrchestrateRequest,
  type OrchestrateResponse,
  type RecordTurnRequest,
  type RecordTurnResponse,
} from '@moma/proto';
import { casUpdate } from './cas.ts';
import type { AgentRegistry } from './registry.ts';
import { agentIdsFor, appendHistory, isValidSessionId, newSession, sessionKey, type SessionRecord } from './session.ts';

export interface TurnDeps {
  store: Store;
  registry: AgentRegistry;
  sessionTtlSeconds: number;
  maxMessages: number;
}

const NO_INTENT: ClassifyResult = { categories: [], candidates: [], inScope: false, threshold: 0 };

function checkSessionId(id: string): void {
  if (!isValidSessionId(id)) {
    throw MomaError.invalidArgument(`session id "${id.slice(0, 40)}" must be 1-128 letters, digits, '.', '_', ':' or '-'`, { field: 'session_id' });
  }
}

/** Creates an empty session (idle, no history) under a fresh id: one compare-and-set that never overwrites. */
export async function createSession(deps: TurnDeps, req: CreateSessionRequest): Promise<CreateSessionResponse> {
  if (req.tenant.length > 128) throw MomaError.invalidArgument('tenant: must be at most 128 characters', { field: 'tenant' });
  const id = randomUUID();
  const created = await deps.store.compareAndSet(sessionKey(id), newSession(id, Date.now(), req.tenant), 0, deps.sessionTtlSeconds);
  // A v4 uuid colliding with a live session is practically impossible; refuse rather than share someone's state.
  if (!created) throw new MomaError(Code.ABORTED, `session id ${id} already exists; retry`);
  return { sessionId: id };
}

/** Runs the state machine for one user turn and persists the new state with the user message. */
export async function decideTurn(deps: TurnDeps, req: OrchestrateRequest): Promise<OrchestrateResponse> {
  // A switch to an agent nobody registered is a mistake in the request, not something to mask and route around.
  // (A registered agent that is unhealthy or not allowed for the tenant is masked, with the reason, as usual.)
  if (req.switchTo.startsWith('agent:') && !deps.registry.get(req.switchTo.slice('agent:'.length))) {
    throw new MomaError(Code.NOT_FOUND, `switch_to: unknown agent "${req.switchTo.slice('agent:'.length)}"; GET /v1/agents lists the registered agents`);
  }
  const decideFrom = (state: FsmState) =>
    decideAgentTurn({
      state,
      classify: req.intent ?? NO_INTENT,
      ...(req.switchTo ? { switchTo: req.switchTo } : {}),
      tenant: req.tenant,
      agents: deps.registry.availability(),
      disableAgents: req.disableAgents,
    });
  const respond = (d: ReturnType<typeof decideFrom>, history: OrchestrateResponse['history']): OrchestrateResponse => {
    const agentId = d.agentId ?? '';
    const ids = d.agentId ? agentIdsFor(d.next, d.agentId) : { contextId: '', taskId: '' };
    return {
      agentId,
      agentUrl: d.agentId ? (deps.registry.get(d.agentId)?.card?.url ?? '') : '',
      fsmState: fsmStateName(d.next),
      masked: d.masked.map((m) => ({ agentId: m.agentId, reason: m.reason })),
      reason: d.reason,
      history,
      agentContextId: ids.contextId,
      agentTaskId: ids.taskId,
    };
  };

  if (!req.sessionId) return respond(decideFrom({ kind: 'idle' }), []); // stateless: nothing to persist

  checkSessionId(req.sessionId);
  const userTurn = req.message && req.message.content ? [req.message] : [];
  const { result } = await casUpdate<SessionRecord, OrchestrateResponse>(
    deps.store,
    sessionKey(req.sessionId),
    (current) => {
      const now = Date.now();
      if (!current && !req.createSession) throw MomaError.notFound(`unknown session ${req.sessionId}`);
      const session = current ?? newSession(req.sessionId, now);
      const d = decideFrom(session.fsm);
      const next: SessionRecord = { ...session, fsm: d.next, history: appendHistory(session.history, userTurn, deps.maxMessages), updatedAt: now };
      return { value: next, result: respond(d, session.history) };
    },
    { ttlSeconds: deps.sessionTtlSeconds },
  );
  return result;
}

/** Advances the session after execution: appends the reply and applies the A2A outcome to the state machine. */
export async function recordTurn(deps: TurnDeps, req: RecordTurnRequest): Promise<RecordTurnResponse> {
  if (!req.sessionId) throw MomaError.invalidArgument('record needs the session id (stateless calls are not recorded)', { field: 'session_id' });
  checkSessionId(req.sessionId);
  const reply = req.reply && req.reply.content ? [{ role: req.reply.role || 'assistant', content: req.reply.content }] : [];
  const decision = req.decision ? Decision.toJSON(req.decision) : undefined;
  const chosenAgent = req.decision?.target.startsWith('agent:') ? req.decision.target.slice('agent:'.length) : null;
  const servedAgent = req.servedBy.startsWith('agent:') ? req.servedBy.slice('agent:'.length) : null;

  const { result, version } = await casUpdate<SessionRecord, string>(
    deps.store,
    sessionKey(req.sessionId),
    (current) => {
      if (!current) throw MomaError.notFound(`unknown session ${req.sessionId}`);
      let fsm = current.fsm;
      if (servedAgent) {
        const taskState = req.failed ? 'failed' : req.agentState || 'completed';
        const outcome = { agentId: servedAgent, taskState, ...(req.agentTaskId ? { taskId: req.agentTaskId } : {}), ...(req.agentContextId ? { contextId: req.agentContextId } : {}) };
        fsm = applyAgentOutcome(fsm, outcome);
      } else if (chosenAgent) {
        // The agent was chosen but an LLM answered (the executor fell back): the agent failed this turn.
        fsm = applyAgentOutcome(fsm, { agentId: chosenAgent, taskState: 'failed' });
      }
      const next: SessionRecord = {
        ...current,
        history: appendHistory(current.history, reply, deps.maxMessages),
        fsm,
        updatedAt: Date.now(),
      };
      if (decision !== undefined) next.lastDecision = decision;
      if (servedAgent && !req.failed) {
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
