// Reads the agent registry the orchestrator writes (`agent:<id>`, proto-JSON Agent) as core AgentSpecs.
import type { AgentSpec } from '@moma/core';
import type { Logger, Store } from '@moma/platform';
import { Agent } from '@moma/proto';

export const AGENT_KEY_PREFIX = 'agent:';
/** Counter the orchestrator bumps on every registry change. */
export const REGISTRY_VERSION_KEY = 'registry:version';

export async function readRegistryVersion(store: Store): Promise<number> {
  return (await store.get<number>(REGISTRY_VERSION_KEY))?.value ?? 0;
}

export function toAgentSpec(agent: Agent): AgentSpec | undefined {
  if (!agent.id || !agent.card) return undefined;
  const spec: AgentSpec = {
    id: agent.id,
    // The proto card has the same fields as the core's AgentCardData; it was validated at registration.
    card: agent.card,
    tenants: agent.tenants,
    healthy: agent.healthy,
  };
  if (agent.category) spec.category = agent.category;
  return spec;
}

export async function readAgents(store: Store, logger: Logger): Promise<AgentSpec[]> {
  const rows = await store.list<unknown>(AGENT_KEY_PREFIX);
  const specs: AgentSpec[] = [];
  for (const { key, value } of rows) {
    const spec = toAgentSpec(Agent.fromJSON(value));
    if (spec) specs.push(spec);
    else logger.warn({ key }, 'skipping malformed registry entry');
  }
  // Stable order: the index (clusters, head init) must not depend on the order Redis lists keys in.
  return specs.sort((a, b) => a.id.localeCompare(b.id));
}
