/** What the orchestrator knows about an agent at decision time. */
export interface AgentAvailability {
  healthy: boolean;
  /** Tenants allowed; empty or containing '*' means every tenant. */
  tenants: readonly string[];
}

/** Whether an agent whose allowed tenants are `tenants` may serve `tenant` (empty or "*" = every tenant). */
export function tenantMayUse(tenants: readonly string[], tenant: string): boolean {
  return tenants.length === 0 || tenants.includes('*') || tenants.includes(tenant);
}

export interface MaskResult<C> {
  allowed: C[];
  masked: Array<{ agentId: string; reason: string }>;
}

/** Drops the candidates this tenant may not use now: unregistered, unhealthy or not permitted. Order is kept. */
export function maskCandidates<C extends { agentId: string }>(
  candidates: readonly C[],
  input: { tenant: string; agents: ReadonlyMap<string, AgentAvailability>; disableAgents?: boolean },
): MaskResult<C> {
  const allowed: C[] = [];
  const masked: Array<{ agentId: string; reason: string }> = [];
  for (const c of candidates) {
    const a = input.agents.get(c.agentId);
    let reason: string | null = null;
    if (input.disableAgents) reason = 'agents disabled for this request';
    else if (!a) reason = 'not registered';
    else if (!a.healthy) reason = 'unhealthy';
    else if (!tenantMayUse(a.tenants, input.tenant)) reason = `not permitted for tenant ${input.tenant}`;
    if (reason) masked.push({ agentId: c.agentId, reason });
    else allowed.push(c);
  }
  return { allowed, masked };
}
