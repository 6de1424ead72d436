// Steps 2-5 of the request path: intent ‖ scoring, orchestrator, and the Decision built from them. A turn without a
// session id is stateless (the orchestrator decides from the idle state and writes nothing); sessions are created
// explicitly (`createSession`, POST /v1/sessions), never minted per request.
// Scoring starts first and runs while intent and the orchestrator answer (speculative: if an agent is chosen, the
// LLM ranking becomes its fallback list), so the decision costs max(intent + orchestrator, scoring) round trips.
import type { Bus } from '@moma/platform';
import { MomaError, Subjects } from '@moma/platform';
import {
  ClassifyRequest,
  ClassifyResponse,
  CreateSessionRequest,
  CreateSessionResponse,
  OrchestrateRequest,
  OrchestrateResponse,
  ScoreRequest,
  ScoreResponse,
  TargetKind,
  type Candidate,
  type ChatMessage,
  type Decision,
} from '@moma/proto';
import type { Turn } from './turn.ts';

export interface Decided {
  decision: Decision;
  /** Orchestrator answer: agent url, A2A ids and the session history before this turn. */
  orchestration: OrchestrateResponse;
  /** '' for a stateless turn (nothing to record afterwards). */
  sessionId: string;
}

const NO_INTENT: ClassifyResponse = ClassifyResponse.fromPartial({});

export async function decide(bus: Bus, turn: Turn): Promise<Decided> {
  const started = performance.now();
  const sessionId = turn.sessionId;
  const { messages, options } = turn;
  const last = messages[messages.length - 1]!;
  const context: ChatMessage[] = messages.length > 1 ? messages.slice(0, -1) : [];

  const scoring = bus.request(
    Subjects.scoringScore,
    { text: last.content, context, options },
    ScoreRequest,
    ScoreResponse,
  );
  // Observed below; without this an intent/orchestrator failure would leave the rejection unhandled.
  scoring.catch(() => undefined);

  const intent = options.disableAgents
    ? NO_INTENT
    : await bus.request(
        Subjects.intentClassify,
        { text: last.content, context, topK: 3, tenant: options.tenant },
        ClassifyRequest,
        ClassifyResponse,
      );
  // A stateless turn with no agent candidate has nothing for the orchestrator to decide (no session to advance,
  // nothing to mask): its answer would be "llm" from the idle state. Skipping the round trip takes one NATS hop and
  // a stage off the path of plain LLM traffic.
  const orchestration = sessionId === '' && turn.switchTo === '' && (options.disableAgents || intent.candidates.length === 0)
    ? OrchestrateResponse.fromPartial({
        fsmState: 'llm',
        reason: options.disableAgents ? 'agents disabled for this request' : 'no agent candidates',
      })
    : await bus.request(
        Subjects.orchestratorDecide,
        {
          sessionId,
          intent,
          switchTo: turn.switchTo,
          tenant: options.tenant,
          message: last,
          disableAgents: options.disableAgents,
          createSession: false,
        },
        OrchestrateRequest,
        OrchestrateResponse,
      );
  const score = await scoring;

  let target: string;
  let kind: TargetKind;
  let ranked: Candidate[];
  if (orchestration.agentId !== '') {
    target = `agent:${orchestration.agentId}`;
    kind = TargetKind.TARGET_KIND_AGENT;
    const confidence = intent.candidates.find((c) => c.agentId === orchestration.agentId)?.score ?? 0;
    ranked = [{ target, predictedQuality: confidence, predictedCostUsd: 0, utility: confidence }, ...score.ranked];
  } else {
    const first = score.ranked[0];
    if (!first) {
      throw MomaError.invalidArgument(
        `no model satisfies the request's limits${score.reason ? ` (${score.reason})` : ''}; relax allowed_models, max_cost_usd or min_quality`,
      );
    }
    target = first.target;
    kind = TargetKind.TARGET_KIND_LLM;
    ranked = score.ranked;
  }

  const reason = orchestration.reason && score.reason ? `${orchestration.reason}; ${score.reason}` : orchestration.reason || score.reason;
  const decision: Decision = {
    target,
    kind,
    mode: score.mode,
    ranked,
    reason,
    categories: intent.categories,
    masked: orchestration.masked,
    fsmState: orchestration.fsmState,
    sessionId,
    decisionMs: Math.round((performance.now() - started) * 1000) / 1000,
    routerVersion: score.routerVersion,
  };
  return { decision, orchestration, sessionId };
}

/** Starts a session in the orchestrator (one Store write) and returns its id. */
export async function createSession(bus: Bus, tenant: string): Promise<string> {
  const res = await bus.request(Subjects.orchestratorSessionCreate, { tenant }, CreateSessionRequest, CreateSessionResponse);
  return res.sessionId;
}
