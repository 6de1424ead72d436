import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Code, connectNatsBus, createLogger, MemoryBus, MemoryStore, stageClient, type Bus } from '@moma/platform';
import { IntentStageDefinition } from '@moma/proto';
import { testInfra, uniqueId } from '@moma/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIntent, type IntentHandle } from './app.ts';
import { BANK, prefixedBus, testAgent, TestRegistry, WEATHER } from './test-support.ts';

const logger = createLogger('intent-test', { level: 'silent' });
const TAXONOMY = fileURLToPath(new URL('../../../config/taxonomy.json', import.meta.url));

interface Rig {
  bus: Bus;
  close(): Promise<void>;
}

function intentSuite(rigFor: () => Promise<Rig>, inWorker: boolean): void {
  let rig: Rig;
  let intent: IntentHandle;
  let registry: TestRegistry;
  const classify = (text: string, topK = 3) => stageClient(rig.bus, IntentStageDefinition).classify({ text, context: [], topK, tenant: '' });

  beforeAll(async () => {
    rig = await rigFor();
    // intent starts before the registry answers: it must keep asking until it gets its first snapshot
    intent = await startIntent({ name: 'intent', bus: rig.bus, store: new MemoryStore(), logger }, { MOMA_TAXONOMY_FILE: TAXONOMY, MOMA_INTENT_WORKER_MIN_AGENTS: inWorker ? 0 : 1_000_000, MOMA_REGISTRY_RESYNC_MS: 50, MOMA_AGENT_ENCODER: 'lexical' });
    registry = await new TestRegistry(rig.bus).serve();
    await waitFor(() => intent.registryVersion() === 0);
  });
  afterAll(async () => {
    await intent?.stop();
    await registry?.close();
    await rig?.close();
  });

  it('intent - with no agents, nothing is in scope', async () => {
    const res = await classify('will it rain in Paris tomorrow');
    expect(res).toEqual({ categories: [], candidates: [], inScope: false, threshold: 0 });
  });

  it('intent - a registry change rebuilds the index and queries find their agent', async () => {
    await registry.upsert(WEATHER);
    await registry.upsert(BANK);
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
      expect(c.turnScore).toBeUndefined();
    }
    // with context, each candidate also carries its score on the turn alone (the state machine's turnMargin)
    const next = await stageClient(rig.bus, IntentStageDefinition).classify({
      text: 'please transfer 20 euros from my checking account',
      context: [{ role: 'user', content: 'is it going to rain in Lisbon on Saturday?' }, { role: 'assistant', content: 'Light rain in Lisbon on Saturday.' }],
      topK: 3,
      tenant: '',
    });
    const own = next.candidates.find((c) => c.agentId === 'bank-helper');
    expect(own?.turnScore).toBe(bank.candidates[0]!.score);
    expect(next.candidates.find((c) => c.agentId === 'weather-bot')!.turnScore!).toBeLessThan(own!.turnScore!);
  });

  it('intent - removal is seen on the next classify; empty text is INVALID_ARGUMENT', async () => {
    await registry.remove(BANK.id);
    await waitFor(() => intent.agentCount() === 1);
    const res = await classify('transfer 20 euros from my checking account');
    expect(res.candidates.map((c) => c.agentId)).not.toContain('bank-helper');
    await expect(classify('  ')).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  it('intent - a change whose announcement was missed is picked up by the periodic resync', async () => {
    const quiet = testAgent('quiet-agent', 'Plant care: watering and repotting house plants', ['how often should I water my cactus']);
    await registry.upsert(quiet, { quiet: true }); // the version moves, the announcement never arrives
    const before = intent.agentCount();
    await waitFor(() => intent.agentCount() === before + 1);
    expect((await classify('how often should I water my cactus')).candidates[0]?.agentId).toBe('quiet-agent');
    await registry.remove(quiet.id, { quiet: true });
    await waitFor(() => intent.agentCount() === before);
  });

  it('intent - an announcement after a missed one takes a new snapshot instead of applying a gap', async () => {
    const missed = testAgent('missed-agent', 'Astronomy: planets, stars and telescopes', ['when is the next meteor shower']);
    const seen = testAgent('seen-agent', 'Knitting patterns and yarn', ['how do I cast on stitches']);
    const before = intent.agentCount();
    await registry.upsert(missed, { quiet: true });
    await registry.upsert(seen);
    await waitFor(() => intent.agentCount() === before + 2);
    expect(intent.registryVersion()).toBe(registry.version);
    await registry.remove(missed.id);
    await registry.remove(seen.id);
    await waitFor(() => intent.agentCount() === before);
  });

  it('intent - a burst of registry events collapses into rebuilds that see every agent', async () => {
    const extra = Array.from({ length: 5 }, (_, i) => testAgent(`helper-${i}`, `helper number ${i} for topic ${i}`, [`question about topic ${i}`]));
    await Promise.all(extra.map((a) => registry.upsert(a)));
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
    return { bus, close: () => bus.close() };
  }, false);
});

const infra = await testInfra({ nats: true });
describe.skipIf(!infra.ok)(`intent - real NATS, index built in a worker${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  intentSuite(async () => {
    const nats = await connectNatsBus({ url: infra.natsUrl, name: 'intent', useServices: false, logger });
    return { bus: prefixedBus(nats, uniqueId('intent')), close: () => nats.close() };
  }, true);
});

describe.skipIf(!infra.ok)(`intent - the semantic encoder (USE), real NATS${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'moma-index-'));
  const start = async (bus: Bus, extra: { MOMA_AGENT_FAST_REJECT?: number } = {}) =>
    startIntent(
      { name: 'intent', bus, store: new MemoryStore(), logger },
      { MOMA_TAXONOMY_FILE: TAXONOMY, MOMA_INTENT_WORKER_MIN_AGENTS: 0, MOMA_REGISTRY_RESYNC_MS: 50, MOMA_AGENT_ENCODER: 'use', MOMA_AGENT_INDEX_DIR: dir, ...extra },
    );
  let nats: Awaited<ReturnType<typeof connectNatsBus>>;
  let bus: Bus;
  let registry: TestRegistry;
  beforeAll(async () => {
    nats = await connectNatsBus({ url: infra.natsUrl, name: 'intent', useServices: false, logger });
    bus = prefixedBus(nats, uniqueId('intent-use'));
    registry = await new TestRegistry(bus).serve();
    await registry.upsert(WEATHER);
    await registry.upsert(BANK);
    await registry.upsert(testAgent('music-bot', 'Music: play songs, albums and playlists', ['play some jazz', 'put on my workout playlist', 'skip this song']));
  });
  afterAll(async () => {
    await registry?.close();
    await nats?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // the lexical index sends all three to bank-helper (checked with buildAgentIndex on the same cards)
  it('intent - with the semantic encoder requests sharing no word with a card find their agent, a restart loads the saved index, and so does one with a fast-reject bar set', async () => {
    const classify = (text: string) => stageClient(bus, IntentStageDefinition).classify({ text, context: [], topK: 3, tenant: '' });
    const first = await start(bus);
    try {
      await waitFor(() => first.agentCount() === 3, 60_000);
      expect(first.indexInfo()).toMatchObject({ encoder: 'use-lite-512@energetic-ai-0.2.0', loaded: false });
      expect((await classify('should I bring a coat today')).candidates[0]?.agentId).toBe('weather-bot');
      expect((await classify('umbrella needed?')).candidates[0]?.agentId).toBe('weather-bot');
      expect((await classify('next tune')).candidates[0]?.agentId).toBe('music-bot');
      expect((await classify('transfer 50 euros to my savings account')).candidates[0]?.agentId).toBe('bank-helper');
    } finally {
      await first.stop();
    }
    const second = await start(bus);
    try {
      await waitFor(() => second.agentCount() === 3, 60_000);
      expect(second.indexInfo()?.loaded).toBe(true);
      expect((await classify('umbrella needed?')).candidates[0]?.agentId).toBe('weather-bot');
    } finally {
      await second.stop();
    }
    // MOMA_AGENT_FAST_REJECT is a serving option: the same saved fit, and a turn no card shares a word with is now
    // out of scope from the lexical pass alone (the bar is capped at the in-scope threshold)
    const strict = await start(bus, { MOMA_AGENT_FAST_REJECT: 0.9 });
    try {
      await waitFor(() => strict.agentCount() === 3, 60_000);
      expect(strict.indexInfo()?.loaded).toBe(true);
      expect((await classify('umbrella needed?')).inScope).toBe(false);
    } finally {
      await strict.stop();
    }
  }, 120_000);
});
