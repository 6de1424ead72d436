// Which agent outcome a finished turn applies to the session's state machine.
import type { Target } from '@moma/proto/common';
import { agentIdOf } from './target.ts';

export interface TurnResult {
  /** The target the decision chose. */
  chosen?: Target | undefined;
  /** The target that answered (unset when execution failed). */
  servedBy?: Target | undefined;
  /** A2A task state reported by the agent that answered. */
  agentState: string;
  agentTaskId: string;
  agentContextId: string;
  failed: boolean;
}

export interface AgentOutcome {
  agentId: string;
  taskState: string;
  taskId?: string;
  contextId?: string;
}

/**
 * The outcome to apply, or null when no agent was involved. An agent that answered reports its task state (a
 * failed execution counts as "failed", a missing state as "completed"); an agent that was chosen but did not answer
 * (the executor fell back to an LLM, or everything failed) failed this turn.
 */
export function agentOutcome(r: TurnResult): AgentOutcome | null {
  const served = agentIdOf(r.servedBy);
  if (served !== null) {
    return {
      agentId: served,
      taskState: r.failed ? 'failed' : r.agentState || 'completed',
      ...(r.agentTaskId ? { taskId: r.agentTaskId } : {}),
      ...(r.agentContextId ? { contextId: r.agentContextId } : {}),
    };
  }
  const chosen = agentIdOf(r.chosen);
  return chosen !== null ? { agentId: chosen, taskState: 'failed' } : null;
}
