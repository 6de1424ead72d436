import { fileURLToPath } from 'node:url';
import { Code, connectNatsBus, connectRedisStore, createLogger, MemoryBus, MemoryStore, Subjects, type Bus, type Store } from '@moma/platform';
import { Agent, ClassifyRequest, ClassifyResponse, RegistryChanged } from '@moma/proto';
import { testInfra, uniqueId } from '@moma/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_KEY_PREFIX, REGISTRY_VERSION_KEY } from './agents.ts';
import { startIntent, type IntentHandle } from './app.ts';
import { BANK, prefixedBus, putAgents, testAgent, WEATHER } from './test-support.ts';

const logger = createLogger('intent-test', { level: 'silent' });
const TAXONOMY = fileURLToPath(new URL('../../../config/taxonomy.json', import.meta.url));

interface Rig {
  bus: Bus;
  store: Store;
  close(): Promise<void>;
}

function intentSuite(rigFor: () => Promise<Rig>, inWorker: boolean): void {
  let rig: Rig;
  let intent: IntentHandle;
  const classify = (text: string, topK = 3) =>
    rig.bus.request(Subjects.intentClassify, { text, context: [], topK, tenant: '' }, ClassifyRequest, ClassifyResponse);

  beforeAll(async () => {
    rig = await rigFor();
    intent = await startIntent({ name: 'intent', bus: rig.bus, store: rig.store, logger }, { MOMA_TAXONOMY_FILE: TAXONOMY, MOMA_INTENT_WORKER_MIN_AGENTS: inWorker ? 0 : 1_000_000, MOMA_REGISTRY_RESYNC_MS: 50 });
  });
  afterAll(async () => {
    await intent?.stop();
    await rig?.close();
  });

  it('intent - with no agents, nothing is in scope', async () => {
    const res = await classify('will it rain in Paris tomorrow');
    expect(res).toEqual({ categories: [], candidates: [], inScope: false, threshold: 0 });
  });

  it('intent - a registry change rebuilds the index and queries find their agent', async () => {
    await putAgents(rig.store, rig.bus, [WEATHER, BANK]);
    await waitFor(() => intent.agentCount() === 2);
    const weather = await classify('is it going to rain in Lisbon on Saturday?');
    expect(weather.candidates[0]?.agentId).toBe('weather-bot');
    expect(weather.categories.length).toBeGreaterThan(0);
    expect(weather.categories.length).toBeLessThanOrEqual(3);
    const bank = await classify('please transfer 20 euros from my checking account');
    expect(bank.candidates[0]?.agentId).toBe('bank-helper');
    expect(bank.inScope).toBe(true);
    expect(bank.candidates[0]!.score).toBeGreaterThanOrEqual(bank.threshold);
    for (const c of [...weather.candidates, ...bank.candidates]) {
      expect(c.score).toBeGreaterThanOrEqual(0);
      expect(c.score).toBeLessThanOrEqual(1);
    }
  });

  it('intent - removal is seen on the next classify; empty text is INVALID_ARGUMENT', async () => {
    await rig.store.delete(AGENT_KEY_PREFIX + BANK.id);
    await rig.bus.publish(Subjects.eventsRegistry, { op: 'remove', agentId: BANK.id, version: 2 }, RegistryChanged);
    await waitFor(() => intent.agentCount() === 1);
    const res = await classify('transfer 20 euros from my checking account');
    expect(res.candidates.map((c) => c.agentId)).not.toContain('bank-helper');
    await expect(classify('  ')).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  it('intent - a change whose announcement was missed is picked up by the periodic resync', async () => {
    const quiet = testAgent('quiet-agent', 'Plant care: watering and repotting house plants', ['how often should I water my cactus']);
    await rig.store.put(AGENT_KEY_PREFIX + quiet.id, Agent.toJSON(quiet));
    await rig.store.update<number>(REGISTRY_VERSION_KEY, (n) => (n ?? 0) + 1); // as the orchestrator does; no event
    const before = intent.agentCount();
    await waitFor(() => intent.agentCount() === before + 1);
    expect((await classify('how often should I water my cactus')).candidates[0]?.agentId).toBe('quiet-agent');
    await rig.store.delete(AGENT_KEY_PREFIX + quiet.id);
    await rig.store.update<number>(REGISTRY_VERSION_KEY, (n) => (n ?? 0) + 1);
    await waitFor(() => intent.agentCount() === before);
  });

  it('intent - a burst of registry events collapses into rebuilds that see every agent', async () => {
    const extra = Array.from({ length: 5 }, (_, i) => testAgent(`helper-${i}`, `helper number ${i} for topic ${i}`, [`question about topic ${i}`]));
    await Promise.all(extra.map((a) => putAgents(rig.store, rig.bus, [a])));
    await waitFor(() => intent.agentCount() === 6);
  });
}

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('intent - memory bus and store, index built inline', () => {
  intentSuite(async () => {
    const bus = new MemoryBus();
    return { bus, store: new MemoryStore(), close: () => bus.close() };
  }, false);
});

const infra = await testInfra({ nats: true, redis: true });
describe.skipIf(!infra.ok)(`intent - real NATS and Redis, index built in a worker${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  intentSuite(async () => {
    const prefix = uniqueId('intent');
    const nats = await connectNatsBus({ url: infra.natsUrl, name: 'intent', useServices: false, logger });
    const store = await connectRedisStore({ url: infra.redisUrl, keyPrefix: `moma-test:${prefix}:`, logger });
    return {
      bus: prefixedBus(nats, prefix),
      store,
      close: async () => {
        for (const { key } of await store.list('')) await store.delete(key);
        await store.close();
        await nats.close();
      },
    };
  }, true);
});
