// A decision's reason, as one of a few classes: what dashboards and alerts group by (the full reason stays on the
// decision and its span). Every reason text is written by the core rules and the FSM, so the classes are read here.
import { TargetKind, type Decision } from '@moma/proto';

export const REASON_CLASSES = [
  'agent_switch', 'agent_awaiting_input', 'agent_held', 'agent_handoff', 'agent_in_scope',
  'llm_switch', 'tool_results', 'session_kept', 'session_switched', 'failed_demoted', 'budget_cost_mode', 'llm_ranked',
] as const;
export type ReasonClass = (typeof REASON_CLASSES)[number];

export function reasonClass(d: Pick<Decision, 'target' | 'reason'>): ReasonClass {
  const r = d.reason;
  if (d.target?.kind === TargetKind.TARGET_KIND_AGENT) {
    if (r.includes('user switched to agent')) return 'agent_switch';
    if (r.includes('awaits input')) return 'agent_awaiting_input';
    if (r.includes('keeps the conversation')) return 'agent_held';
    if (r.includes(' clears ')) return 'agent_handoff';
    return 'agent_in_scope';
  }
  if (r.includes('user switched to LLM')) return 'llm_switch';
  if (r.includes('tool results go back')) return 'tool_results';
  if (r.startsWith('budget: ')) return 'budget_cost_mode';
  if (r.includes('demoted ')) return 'failed_demoted';
  if (r.includes('kept ') || r.includes('stayed on ')) return 'session_kept';
  if (r.includes('switched from ')) return 'session_switched';
  return 'llm_ranked';
}
