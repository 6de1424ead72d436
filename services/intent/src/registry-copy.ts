// The intent stage's copy of the agent registry. The orchestrator owns the registry; this copy is its snapshot
// (OrchestratorStage.ListAgents) advanced by the RegistryChanged events it announces. An event that skips a version
// (one was missed) makes the next `sync` take a new snapshot; a periodic `sync` is cheap while nothing changed
// (ListAgents with known_version answers with the version alone).
import type { AgentSpec } from '@moma/core';
import type { StageClient } from '@moma/platform';
import { RegistryOp, type Agent, type OrchestratorStageDefinition, type RegistryChanged } from '@moma/proto';

export type OrchestratorClient = StageClient<typeof OrchestratorStageDefinition>;

export type Applied = 'applied' | 'stale' | 'gap';

/** A bound on one snapshot's pages (100 agents or 512 KiB each). */
const MAX_PAGES = 10_000;

export class RegistryCopy {
  readonly #orchestrator: OrchestratorClient;
  #agents = new Map<string, Agent>();
  /** -1 until the first snapshot. */
  #version = -1;

  constructor(orchestrator: OrchestratorClient) {
    this.#orchestrator = orchestrator;
  }

  get loaded(): boolean {
    return this.#version >= 0;
  }

  get version(): number {
    return this.#version;
  }

  /** Takes a snapshot unless the registry is still at our version; true when the copy changed. */
  async sync(timeoutMs?: number): Promise<boolean> {
    const known = this.loaded ? this.#version : 0;
    const opts = timeoutMs ? { timeoutMs } : undefined;
    let res = await this.#orchestrator.listAgents({ tenant: '', knownVersion: known, pageSize: 0, pageToken: '' }, opts);
    if (!res.listed && this.loaded) return false;
    // The snapshot's version is the first page's: a change made while the later pages are read is in them or comes
    // as an event with a later version, which apply() takes on top.
    const version = res.version;
    const agents = new Map(res.agents.map((a) => [a.id, a]));
    for (let pages = 1; res.nextPageToken; pages++) {
      if (pages > MAX_PAGES) throw new Error(`agent registry listing did not end after ${MAX_PAGES} pages`);
      res = await this.#orchestrator.listAgents({ tenant: '', knownVersion: 0, pageSize: 0, pageToken: res.nextPageToken }, opts);
      for (const a of res.agents) agents.set(a.id, a);
    }
    this.#agents = agents;
    this.#version = version;
    return true;
  }

  /** Applies one announcement: 'stale' if the copy already has it, 'gap' if an earlier one was missed. */
  apply(evt: RegistryChanged): Applied {
    if (!this.loaded || evt.version > this.#version + 1) return 'gap';
    if (evt.version <= this.#version) return 'stale';
    if (evt.op === RegistryOp.REGISTRY_OP_UPSERT && evt.agent) this.#agents.set(evt.agentId, evt.agent);
    else if (evt.op === RegistryOp.REGISTRY_OP_REMOVE) this.#agents.delete(evt.agentId);
    else return 'gap'; // an upsert without its agent: take a snapshot rather than guess
    this.#version = evt.version;
    return 'applied';
  }

  /** The agents as the core index takes them, in a stable order (clusters and head init must not depend on it). */
  specs(): AgentSpec[] {
    const specs: AgentSpec[] = [];
    for (const agent of this.#agents.values()) {
      if (!agent.id || !agent.card) continue;
      // The proto card has the fields of the core's AgentCardData; it was validated at registration.
      specs.push({ id: agent.id, card: agent.card, tenants: agent.tenants, healthy: agent.healthy, ...(agent.category ? { category: agent.category } : {}) });
    }
    return specs.sort((a, b) => a.id.localeCompare(b.id));
  }
}
