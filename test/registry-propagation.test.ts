// Cross-stage: an agent registered on an orchestrator instance reaches an intent instance over the bus only (the
// orchestrator's snapshot and its RegistryChanged announcement): intent gets a Store of its own that holds nothing.
import { connectNatsBus, connectRedisStore, createLogger, MemoryBus, MemoryStore, stageClient, type Bus, type Store } from '@moma/platform';
import { IntentStageDefinition, OrchestratorStageDefinition, RegisterAgentRequest } from '@moma/proto';
import { testInfra, uniqueId } from '@moma/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrchestrator, type OrchestratorHandle } from '../services/orchestrator/src/app.ts';
import { startIntent, type IntentHandle } from '../services/intent/src/app.ts';
import { prefixedBus } from '../services/intent/src/test-support.ts';

const logger = createLogger('propagation-test', { level: 'silent' });

const card = (name: string, description: string, examples: string[]) =>
  JSON.stringify({ name, description, url: 'http://127.0.0.1:9/a2a', skills: [{ id: 'main', name, description, examples }] });

interface Rig {
  orchestratorBus: Bus;
  intentBus: Bus;
  client: Bus;
  orchestratorStore: Store;
  intentStore: Store;
  close(): Promise<void>;
}

function propagationSuite(rigFor: () => Promise<Rig>): void {
  let rig: Rig;
  let orch: OrchestratorHandle;
  let intent: IntentHandle;

  beforeAll(async () => {
    rig = await rigFor();
    orch = await startOrchestrator(
      { name: 'orchestrator', bus: rig.orchestratorBus, store: rig.orchestratorStore, logger },
      { SESSION_TTL_SECONDS: 60, AGENT_CARD_TIMEOUT_MS: 3000, SESSION_MAX_MESSAGES: 50 },
    );
    intent = await startIntent({ name: 'intent', bus: rig.intentBus, store: rig.intentStore, logger }, { MOMA_INTENT_WORKER_MIN_AGENTS: 0, MOMA_AGENT_ENCODER: 'lexical' });
  });
  afterAll(async () => {
    await intent?.stop();
    await orch?.stop();
    await rig?.close();
  });

  it('registry - an agent registered on the orchestrator is seen by the next intent classify', async () => {
    const classify = (text: string) => stageClient(rig.client, IntentStageDefinition).classify({ text, context: [], topK: 3, tenant: '' });
    expect((await classify('book a table for two tonight')).candidates).toEqual([]);
    const register = (cardJson: string) =>
      stageClient(rig.client, OrchestratorStageDefinition).registerAgent(RegisterAgentRequest.fromPartial({ cardJson }));
    await register(card('Table Booker', 'Restaurant table reservations', ['book a table for two tonight', 'reserve dinner at an Italian place']));
    await register(card('Taxi Caller', 'Order a taxi or a ride to an address', ['get me a taxi to the airport', 'call a cab home']));
    const deadline = Date.now() + 20_000;
    while (intent.agentCount() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const res = await classify('can you book a table for two tonight');
    expect(res.candidates[0]?.agentId).toBe('table-booker');
    expect((await classify('I need a cab to the airport')).candidates[0]?.agentId).toBe('taxi-caller');
  });
}

describe('registry propagation - memory bus and store', () => {
  propagationSuite(async () => {
    const bus = new MemoryBus();
    const store = new MemoryStore();
    return { orchestratorBus: bus, intentBus: bus, client: bus, orchestratorStore: store, intentStore: new MemoryStore(), close: () => bus.close() };
  });
});

const infra = await testInfra({ nats: true, redis: true });
describe.skipIf(!infra.ok)(`registry propagation - real NATS and Redis${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  propagationSuite(async () => {
    const prefix = uniqueId('prop');
    const buses = await Promise.all(['orchestrator', 'intent', 'client'].map((name) => connectNatsBus({ url: infra.natsUrl, name, useServices: false, logger })));
    const stores = [await connectRedisStore({ url: infra.redisUrl, keyPrefix: `moma-test:${prefix}:`, logger })];
    return {
      orchestratorBus: prefixedBus(buses[0]!, prefix),
      intentBus: prefixedBus(buses[1]!, prefix),
      client: prefixedBus(buses[2]!, prefix),
      orchestratorStore: stores[0]!,
      intentStore: new MemoryStore(),
      close: async () => {
        for (const { key } of await stores[0]!.list('')) await stores[0]!.delete(key);
        for (const s of stores) await s.close();
        for (const b of buses) await b.close();
      },
    };
  });
});
