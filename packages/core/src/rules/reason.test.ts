import { describe, expect, it } from 'vitest';
import { agentTarget, llmTarget } from './target.ts';
import { reasonClass } from './reason.ts';

describe('reasonClass', () => {
  it.each([
    [agentTarget('weather'), 'user switched to agent weather', 'agent_switch'],
    [agentTarget('weather'), 'weather awaits input for task t1', 'agent_awaiting_input'],
    [agentTarget('weather'), 'weather keeps the conversation', 'agent_held'],
    [agentTarget('flights'), 'flights 0.910 clears weather 0.400 by margin 0.100', 'agent_handoff'],
    [agentTarget('weather'), 'weather in scope (0.900 ≥ 0.530)', 'agent_in_scope'],
    [llmTarget('gpt-4o'), 'user switched to LLM', 'llm_switch'],
    [llmTarget('gpt-4o'), 'tool results go back to llm:gpt-4o, which issued the calls', 'tool_results'],
    [llmTarget('m'), 'budget: tenant acme has used 90% of its daily budget ($9 of $10), so it is routed in cost mode; no agent candidates', 'budget_cost_mode'],
    [llmTarget('m'), 'no agent candidates; demoted llm:a: failed earlier in this session', 'failed_demoted'],
    [llmTarget('m'), 'no agent candidates; kept llm:m from the previous turn: llm:b is better by only 0.010 < switch cost 0.050', 'session_kept'],
    [llmTarget('b'), 'no agent candidates; switched from llm:m to llm:b: better by 0.200 ≥ switch cost 0.050', 'session_switched'],
    [llmTarget('m'), 'no agent candidates; balanced mode: best utility', 'llm_ranked'],
  ] as const)('%s "%s" → %s', (target, reason, cls) => {
    expect(reasonClass({ target, reason })).toBe(cls);
  });
});
