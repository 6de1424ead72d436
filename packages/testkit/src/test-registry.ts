// The registry side of the orchestrator's stage contract, for tests and benchmarks of a stage that keeps a copy of
// the registry (intent): ListAgents (with known_version) and RegistryChanged announcements, nothing else.
import { Code, MomaError, publishEvent, serveStage, type Bus, type StageHandlers, type Subscription } from '@moma/platform';
import { OrchestratorStageDefinition, RegistryOp, Topics, type Agent } from '@moma/proto';

const unimplemented = async (): Promise<never> => {
  throw new MomaError(Code.UNIMPLEMENTED, 'not part of this test registry');
};

/**
 * The registry side of the orchestrator's contract, as the intent stage sees it: ListAgents (with known_version)
 * and RegistryChanged announcements. `quiet` changes bump the version without an announcement (a missed event).
 */
export class TestRegistry {
  readonly agents = new Map<string, Agent>();
  version = 0;
  #sub: Subscription | undefined;
  readonly #bus: Bus;

  constructor(bus: Bus) {
    this.#bus = bus;
  }

  async serve(): Promise<this> {
    const handlers: StageHandlers<typeof OrchestratorStageDefinition> = {
      decide: unimplemented,
      recordTurn: unimplemented,
      createSession: unimplemented,
      registerAgent: unimplemented,
      updateAgent: unimplemented,
      removeAgent: unimplemented,
      listSessions: unimplemented,
      listAgents: async (req) =>
        req.knownVersion > 0 && req.knownVersion === this.version
          ? { agents: [], version: this.version, listed: false, nextPageToken: '' }
          : { agents: [...this.agents.values()], version: this.version, listed: true, nextPageToken: '' },
    };
    this.#sub = await serveStage(this.#bus, OrchestratorStageDefinition, handlers);
    return this;
  }

  async upsert(agent: Agent, { quiet = false } = {}): Promise<void> {
    this.agents.set(agent.id, agent);
    const version = ++this.version;
    if (!quiet) await publishEvent(this.#bus, Topics.registry, { op: RegistryOp.REGISTRY_OP_UPSERT, agentId: agent.id, version, agent });
  }

  async remove(id: string, { quiet = false } = {}): Promise<void> {
    this.agents.delete(id);
    const version = ++this.version;
    if (!quiet) await publishEvent(this.#bus, Topics.registry, { op: RegistryOp.REGISTRY_OP_REMOVE, agentId: id, version });
  }

  async close(): Promise<void> {
    await this.#sub?.unsubscribe();
  }
}

