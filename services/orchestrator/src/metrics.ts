// The orchestrator's Prometheus families: session FSM transitions, agent vs LLM outcomes of Decide, and where
// budgets stand (remaining USD, refusals by limit kind). States are labelled by kind, never by session or agent id.
import { counter, gauge, type Registry } from '@moma/platform';
import type { AdmitResponse } from '@moma/proto';

export class OrchestratorMetrics {
  readonly #transitions;
  readonly #decisions;
  readonly #handoffs;
  readonly #remaining;
  readonly #refusals;

  constructor(registry: Registry) {
    this.#transitions = counter(registry, 'moma_session_transitions_total', 'Session FSM state changes made by a turn, by the state kind before and after (idle, llm, engaged, awaiting_input)', ['from', 'to']);
    this.#decisions = counter(registry, 'moma_orchestrator_decisions_total', 'Decide answers, by what takes the turn (agent, llm)', ['kind']);
    this.#handoffs = counter(registry, 'moma_agent_handoffs_total', 'Conversations another agent took from the one holding them, by the rule (user: switch_to; turn: the turn alone, MOMA_AGENT_TURN_MARGIN; shift; margin)', ['by']);
    this.#remaining = gauge(registry, 'moma_budget_remaining_usd', 'USD left in a budget when it was last checked, by holder (tenant, key) and its id (tenant name or key id)', ['holder', 'id']);
    this.#refusals = counter(registry, 'moma_limit_refusals_total', 'Requests refused by a limit, by limit kind (requests, tokens, budget) and holder (tenant, key)', ['kind', 'holder']);
  }

  transition(from: string, to: string): void {
    this.#transitions.inc({ from, to });
  }

  handoff(by: string): void {
    this.#handoffs.inc({ by });
  }

  decided(agent: boolean): void {
    this.#decisions.inc({ kind: agent ? 'agent' : 'llm' });
  }

  /** `ids[i]` is the holder id of `res.states[i]` (the key id or the tenant). */
  admitted(res: AdmitResponse, ids: (holder: string) => string): void {
    for (const s of res.states) {
      if (s.kind === 'budget') this.#remaining.set({ holder: s.holder, id: ids(s.holder) || '(default)' }, Math.max(0, s.limit - s.used));
    }
    if (!res.admitted) {
      const kind = res.refusedBy.includes('budget') ? 'budget' : res.refusedBy.startsWith('tokens') ? 'tokens' : 'requests';
      this.#refusals.inc({ kind, holder: res.refusedBy.includes(' of key ') ? 'key' : 'tenant' });
    }
  }
}
