// How the stages' answers become one Decision: agent first (its retrieval confidence as its predicted quality, the
// LLM ranking as its fallbacks), else the top-ranked LLM; and when the orchestrator has nothing to decide.
import type { Candidate, ClassifyResponse, Decision, DecideResponse, ScoreResponse } from '@moma/proto';
import { InvalidInputError } from '../errors.ts';
import { sessionRanking } from './affinity.ts';
import { agentTarget, sameTarget } from './target.ts';

export interface SkipInput {
  sessionId: string;
  switchTo: string;
  disableAgents: boolean;
  intent: ClassifyResponse;
}

/**
 * The orchestrator's answer when asking it is pointless, or null when it must be asked. A stateless turn with no
 * agent candidate and no switch has no session to advance and nothing to mask: its answer would be the LLM path
 * from the idle state, so the round trip is skipped.
 */
export function skipOrchestrator(turn: SkipInput): DecideResponse | null {
  if (turn.sessionId !== '' || turn.switchTo !== '') return null;
  if (!turn.disableAgents && turn.intent.candidates.length > 0) return null;
  return {
    agentId: '',
    agentUrl: '',
    fsmState: 'llm',
    masked: [],
    reason: turn.disableAgents ? 'agents disabled for this request' : 'no agent candidates',
    history: [],
    agentContextId: '',
    agentTaskId: '',
    pinned: undefined,
    turnId: '',
    previousModel: undefined,
    failedModels: [],
  };
}

export interface DecisionParts {
  intent: ClassifyResponse;
  orchestration: DecideResponse;
  score: ScoreResponse;
  sessionId: string;
  decisionMs: number;
  /**
   * What leaving the session's previous model costs, in utility (the request's RouteOptions.switch_cost, else the
   * deployment's default); 0 or unset = rank afresh. Applies only when the orchestration names a previous model.
   */
  switchCost?: number;
}

/**
 * Composes the Decision; throws InvalidInputError when no agent takes the turn and no model meets the limits. In a
 * session the LLM ranking is first re-ranked by `sessionRanking`: models that failed in the session go last, and the
 * previous turn's model stays first unless another beats it by the switch cost (the reason says which happened).
 */
export function composeDecision({ intent, orchestration, score, sessionId, decisionMs, switchCost = 0 }: DecisionParts): Decision {
  const session = sessionRanking(score.ranked, { previous: orchestration.previousModel, failed: orchestration.failedModels ?? [], switchCost });
  const llms = session.ranked;
  let ranked: Candidate[];
  let sessionReason = '';
  if (orchestration.agentId !== '') {
    const confidence = intent.candidates.find((c) => c.agentId === orchestration.agentId)?.score ?? 0;
    const agent: Candidate = { target: agentTarget(orchestration.agentId), predictedQuality: confidence, predictedCostUsd: 0, utility: confidence };
    ranked = [agent, ...llms];
  } else if (orchestration.pinned) {
    // Pinned (tool results return to the model that made the calls): that model first, the ranking after it.
    const pinned = orchestration.pinned;
    const own = llms.find((c) => sameTarget(c.target, pinned));
    ranked = [own ?? { target: pinned, predictedQuality: 0, predictedCostUsd: 0, utility: 0 }, ...llms.filter((c) => c !== own)];
  } else {
    if (llms.length === 0) {
      throw new InvalidInputError(
        `no model satisfies the request's limits${score.reason ? ` (${score.reason})` : ''}; relax allowed_models, max_cost_usd or min_quality`,
      );
    }
    ranked = llms;
    sessionReason = session.reason;
  }
  const reason = [orchestration.reason, sessionReason, score.reason].filter(Boolean).join('; ');
  return {
    target: ranked[0]!.target,
    mode: score.mode,
    ranked,
    reason,
    categories: intent.categories,
    masked: orchestration.masked,
    fsmState: orchestration.fsmState,
    sessionId,
    decisionMs,
    routerVersion: score.routerVersion,
  };
}
