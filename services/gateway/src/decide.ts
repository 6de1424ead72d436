// Steps 2-5 of the request path: intent ‖ scoring, then the orchestrator, composed into one Decision by the core's
// rules. A turn without a session id is stateless (the orchestrator decides from the idle state and writes nothing);
// sessions are created explicitly, never minted per request.
// Scoring starts first and runs while intent and the orchestrator answer (speculative: if an agent is chosen, the
// LLM ranking becomes its fallback list), so the decision costs max(intent + orchestrator, scoring) round trips.
import { randomUUID } from 'node:crypto';
import { composeDecision, parseSwitchTo, routedTurnIndex, skipOrchestrator, type Turn } from '@moma/core/rules';
import { Code, MomaError, type StageClient } from '@moma/platform';
import {
  ClassifyResponse,
  type ChatMessage,
  type DecideResponse,
  type Decision,
  type LimitState,
  type IntentStageDefinition,
  type OrchestratorStageDefinition,
  type ScoringStageDefinition,
} from '@moma/proto';

export interface Stages {
  intent: StageClient<typeof IntentStageDefinition>;
  scoring: StageClient<typeof ScoringStageDefinition>;
  orchestrator: StageClient<typeof OrchestratorStageDefinition>;
}

export interface Decided {
  decision: Decision;
  /** Orchestrator answer: agent url, A2A ids and the session history before this turn. */
  orchestration: DecideResponse;
  /** '' for a stateless turn (nothing to record afterwards). */
  sessionId: string;
  /** Where the caller's rate limits and budgets stand after this request was counted (empty = none apply). */
  limits: LimitState[];
  /** This request's id (x-moma-request-id): on its usage event, and what POST /v1/feedback names. */
  requestId: string;
}

const NO_INTENT: ClassifyResponse = ClassifyResponse.fromPartial({});

/**
 * `turnHoldMs` > 0: the turn will be executed and recorded, so a session is held for it that long (the orchestrator
 * answers another turn of the session meanwhile with ABORTED); released here if the decision itself fails.
 */
/** A session busy with another turn (ABORTED, 409) says when to come back, in the headers the OpenAI SDKs read. */
async function holdSession(decided: Promise<DecideResponse>): Promise<DecideResponse> {
  try {
    return await decided;
  } catch (err) {
    const e = MomaError.from(err);
    if (e.code !== Code.ABORTED) throw err;
    throw new MomaError(e.code, e.message, { cause: err, details: { retryAfterSeconds: 1, headers: { 'retry-after-ms': '200' } } });
  }
}

/**
 * `defaultSwitchCost` (MOMA_SWITCH_COST) applies to a session turn whose options set no switch_cost: what leaving the
 * previous turn's model costs in utility (composeDecision re-ranks by it; a stateless turn has no previous model).
 */
export async function decide(stages: Stages, turn: Turn, turnHoldMs = 0, defaultSwitchCost = 0): Promise<Decided> {
  const started = performance.now();
  const { messages, options, sessionId } = turn;
  // The routed turn is the last user message; tool results after it continue that turn.
  const at = routedTurnIndex(messages);
  const last = messages[at]!;
  const context: ChatMessage[] = messages.slice(0, at);

  const scoring = stages.scoring.score({ text: last.content, context, options });
  // Observed below; without this an intent/orchestrator failure would leave the rejection unhandled.
  scoring.catch(() => undefined);

  const intent = options.disableAgents ? NO_INTENT : await stages.intent.classify({ text: last.content, context, topK: 3, tenant: options.tenant });
  const switchTo = parseSwitchTo(turn.switchTo);
  const orchestration =
    skipOrchestrator({ sessionId, switchTo: turn.switchTo, disableAgents: options.disableAgents, intent }) ??
    (await holdSession(stages.orchestrator.decide({
      sessionId,
      intent,
      switchTo,
      tenant: options.tenant,
      disableAgents: options.disableAgents,
      toolResults: messages.at(-1)?.role === 'tool',
      turnHoldMs: sessionId ? turnHoldMs : 0,
    })));
  let score;
  try {
    score = await scoring;
  } catch (err) {
    if (orchestration.turnId) {
      await stages.orchestrator
        .recordTurn({ sessionId, failed: true, turnId: orchestration.turnId, tenant: options.tenant, agentState: '', agentContextId: '', agentTaskId: '', failedTargets: [] })
        .catch(() => undefined);
    }
    throw err;
  }
  const decisionMs = Math.round((performance.now() - started) * 1000) / 1000;
  const switchCost = options.switchCost ?? defaultSwitchCost;
  return { decision: composeDecision({ intent, orchestration, score, sessionId, decisionMs, switchCost }), orchestration, sessionId, limits: [], requestId: randomUUID() };
}
