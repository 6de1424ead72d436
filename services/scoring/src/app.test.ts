import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeArtifact, llmTarget, targetText } from '@moma/core';
import { Code, connectNatsBus, createLogger, MemoryBus, MemoryStore, publishEvent, stageClient, type Bus } from '@moma/platform';
import { RoutingMode, ScoringStageDefinition, Topics, type RouteOptions } from '@moma/proto';
import { testInfra, uniqueId } from '@moma/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScoring, type ScoringHandle } from './app.ts';
import { DEFAULT_ARTIFACT_DIR, servedModels } from './config.ts';
import { prefixedBus, syntheticArtifact, writeArtifact } from './test-support.ts';

const logger = createLogger('scoring-test', { level: 'silent' });
const opts = (o: Partial<RouteOptions> = {}): RouteOptions => ({
  mode: RoutingMode.ROUTING_MODE_UNSPECIFIED,
  allowedModels: [],
  deniedModels: [],
  disableAgents: false,
  tenant: '',
  requires: [],
  ...o,
});

interface Rig {
  server: Bus;
  client: Bus;
  close(): Promise<void>;
}

/** A copy of the artifact in `from` with another version, written to a fresh temp dir. */
async function copyWithVersion(from: string, version: string, into: string): Promise<string> {
  const artifact = decodeArtifact(JSON.parse(await readFile(join(from, 'manifest.json'), 'utf8')), await readFile(join(from, 'weights.bin')));
  return writeArtifact(join(into, version), { ...artifact, version });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
}

function scoringSuite(rigFor: () => Promise<Rig>, artifactDir: () => Promise<string>): void {
  let rig: Rig;
  let handle: ScoringHandle;
  let tmp: string;
  let baseDir: string;
  const scoring = () => stageClient(rig.client, ScoringStageDefinition);
  const score = (text: string, options = opts()) => scoring().score({ text, context: [], options });
  const listModels = () => scoring().listModels({});

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'moma-scoring-'));
    baseDir = await artifactDir();
    rig = await rigFor();
    handle = await startScoring({ name: 'scoring', bus: rig.server, store: new MemoryStore(), logger }, { MOMA_ARTIFACT_DIR: baseDir });
  });
  afterAll(async () => {
    await handle?.stop();
    await rig?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('scoring - ranks every model and reports the artifact version', async () => {
    const models = await listModels();
    const res = await score('What is the derivative of x^2 * sin(x)?');
    expect(res.ranked.length).toBe(models.models.length);
    expect(new Set(res.ranked.map((c) => targetText(c.target)))).toEqual(new Set(models.models.map((m) => `llm:${m.id}`)));
    expect(res.routerVersion).toBe(handle.routerVersion());
    expect(models.routerVersion).toBe(handle.routerVersion());
    expect(res.mode).toBe(RoutingMode.ROUTING_MODE_BALANCED); // UNSPECIFIED → balanced
    expect(res.reason.length).toBeGreaterThan(0);
    for (const c of res.ranked) {
      expect(c.predictedQuality).toBeGreaterThanOrEqual(0);
      expect(c.predictedQuality).toBeLessThanOrEqual(1);
      expect(c.predictedCostUsd).toBeGreaterThan(0);
    }
    // ranked by utility, chosen first
    for (let i = 1; i < res.ranked.length; i++) expect(res.ranked[i - 1]!.utility).toBeGreaterThanOrEqual(res.ranked[i]!.utility);
  });

  it('scoring - applies mode and per-request limits', async () => {
    const models = (await listModels()).models;
    const [a, b] = models;
    const q = 'Write a haiku about the sea.';
    expect((await score(q, opts({ mode: RoutingMode.ROUTING_MODE_COST }))).mode).toBe(RoutingMode.ROUTING_MODE_COST);
    const quality = await score(q, opts({ mode: RoutingMode.ROUTING_MODE_QUALITY }));
    expect(quality.mode).toBe(RoutingMode.ROUTING_MODE_QUALITY);
    const pinned = await score(q, opts({ allowedModels: [a!.id] }));
    expect(pinned.ranked.map((c) => c.target)).toEqual([llmTarget(a!.id)]);
    const denied = await score(q, opts({ deniedModels: [b!.id] }));
    expect(denied.ranked.map((c) => c.target)).not.toContainEqual(llmTarget(b!.id));
    const cheapest = Math.min(...quality.ranked.map((c) => c.predictedCostUsd));
    const capped = await score(q, opts({ maxCostUsd: cheapest * 1.0001 }));
    for (const c of capped.ranked) expect(c.predictedCostUsd).toBeLessThanOrEqual(cheapest * 1.0001);
  });

  it('scoring - bad input is INVALID_ARGUMENT with a message', async () => {
    await expect(score('hello', opts({ allowedModels: ['no-such-model'] }))).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: expect.stringContaining('no-such-model'),
    });
    await expect(score('hello', opts({ maxCostUsd: -1 }))).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: expect.stringContaining('maxCostUsd'),
    });
    await expect(score('   ')).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('empty') });
    await expect(score('hi', opts({ mode: 9 as RoutingMode }))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  it('scoring - hot reload: an announced artifact serves the next request; a bad one is ignored', async () => {
    const before = handle.routerVersion();
    const bad = join(tmp, 'bad');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'manifest.json'), '{"format":"not-an-artifact"}');
    await writeFile(join(bad, 'weights.bin'), new Uint8Array(8));
    await expect(handle.reload(bad)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(handle.reload(join(tmp, 'missing'))).rejects.toMatchObject({ code: Code.NOT_FOUND });
    expect(handle.routerVersion()).toBe(before);

    const v2 = `${before}-reload-${uniqueId()}`;
    const dir2 = await copyWithVersion(baseDir, v2, tmp);
    // The bad announcement first: reloads apply in order, so seeing v2 proves the bad one was skipped, not fatal.
    await publishEvent(rig.client, Topics.artifact, { version: 'broken', path: bad });
    await publishEvent(rig.client, Topics.artifact, { version: v2, path: dir2 });
    await waitFor(async () => (await score('Is 17 prime?')).routerVersion === v2);
    expect(handle.routerVersion()).toBe(v2);
    const models = await listModels();
    expect(models.routerVersion).toBe(v2);
  });
}

describe('scoring - memory bus, synthetic artifact', () => {
  scoringSuite(
    async () => {
      const bus = new MemoryBus();
      return { server: bus, client: bus, close: () => bus.close() };
    },
    async () => writeArtifact(await mkdtemp(join(tmpdir(), 'moma-synth-')), syntheticArtifact('synthetic-1')),
  );
});

const infra = await testInfra({ nats: true, redis: false });
const haveDefault = existsSync(join(DEFAULT_ARTIFACT_DIR, 'manifest.json'));
const skip = !infra.ok ? infra.reason : !haveDefault ? `no committed default artifact at ${DEFAULT_ARTIFACT_DIR}` : '';
if (skip && process.env.CI === 'true') throw new Error(`CI=true and ${skip}`);

describe.skipIf(skip !== '')(`scoring - real NATS, default artifact${skip ? ` (skipped: ${skip})` : ''}`, () => {
  scoringSuite(
    async () => {
      const prefix = uniqueId('scoring');
      const server = await connectNatsBus({ url: infra.natsUrl, name: 'scoring', useServices: false, logger });
      const client = await connectNatsBus({ url: infra.natsUrl, name: 'scoring-test-client', useServices: false, logger });
      return {
        server: prefixedBus(server, prefix),
        client: prefixedBus(client, prefix),
        close: async () => {
          await client.close();
          await server.close();
        },
      };
    },
    async () => DEFAULT_ARTIFACT_DIR,
  );
});

describe('scoring - the routable pool is what the providers serve', () => {
  it('pool - models no provider serves are never ranked; models only the providers know are listed with a hint', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'moma-scoring-pool-'));
    const dir = await writeArtifact(join(tmp, 'a'), syntheticArtifact('pool-v1'));
    const bus = new MemoryBus();
    const served = servedModels({ MOMA_PROVIDERS: JSON.stringify([{ name: 'local', baseUrl: 'http://127.0.0.1:1/v1', models: ['small', 'large', 'my-finetune'] }]) });
    const handle = await startScoring({ name: 'scoring', bus, store: new MemoryStore(), logger }, { MOMA_ARTIFACT_DIR: dir, served });
    try {
      const client = stageClient(bus, ScoringStageDefinition);
      const listed = await client.listModels({});
      expect(listed.models.map((m) => [m.id, m.provider])).toEqual([
        ['small', 'local'],
        ['large', 'local'],
      ]);
      expect(listed.unserved).toEqual(['medium']);
      expect(listed.unknown).toEqual(['my-finetune']);
      for (const mode of [RoutingMode.ROUTING_MODE_QUALITY, RoutingMode.ROUTING_MODE_BALANCED, RoutingMode.ROUTING_MODE_COST]) {
        const res = await client.score({ text: 'Explain quantum entanglement simply', context: [], options: opts({ mode }) });
        expect(res.ranked.map((c) => c.target!.id).sort()).toEqual(['large', 'small']);
      }
      // A "*" provider serves everything: the whole artifact is routable.
      expect(servedModels({ MOMA_PROVIDERS: JSON.stringify([{ name: 'any', models: ['*'] }]) })).toBe('any');
      expect(servedModels({})).toBe('any');
      expect(() => servedModels({ MOMA_PROVIDERS: '{"not": "a list"}' })).toThrow(/MOMA_PROVIDERS/);
      // An artifact none of whose models is served is refused; the old one keeps serving.
      const none = await writeArtifact(join(tmp, 'b'), { ...syntheticArtifact('pool-v2'), models: syntheticArtifact('x').models.map((m) => ({ ...m, id: `other-${m.id}` })) });
      await expect(handle.reload(none)).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
      expect(handle.routerVersion()).toBe('pool-v1');
    } finally {
      await handle.stop();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
