// Test helpers (imported by *.test.ts only): namespaced subjects so test files sharing one NATS never answer each
// other's requests, and a test registry that speaks the orchestrator's side of the registry contract.
import { Code, MomaError, publishEvent, serveStage, type Bus, type StageHandlers, type Subscription } from '@moma/platform';
import { Agent, OrchestratorStageDefinition, RegistryOp, Topics } from '@moma/proto';
export { prefixedBus } from '@moma/testkit';

export function testAgent(id: string, description: string, examples: string[], category = ''): Agent {
  return Agent.fromPartial({
    id,
    card: { name: id, description, url: `http://127.0.0.1:9/${id}`, version: '1', skills: [{ id: 'main', name: id, description, tags: [], examples }] },
    healthy: true,
    category,
  });
}

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
      listAgents: async (req) =>
        req.knownVersion > 0 && req.knownVersion === this.version
          ? { agents: [], version: this.version, listed: false }
          : { agents: [...this.agents.values()], version: this.version, listed: true },
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

export const WEATHER = testAgent('weather-bot', 'Weather forecasts, temperature and rain for any city', [
  'will it rain in Paris tomorrow',
  'what is the temperature in Oslo right now',
  'weather forecast for the weekend in Rome',
  'is it going to snow tonight',
]);
export const BANK = testAgent('bank-helper', 'Bank accounts: balances, money transfers and card payments', [
  'what is my checking account balance',
  'transfer 50 euros to my savings account',
  'my debit card was declined',
  'show my last transactions',
]);
