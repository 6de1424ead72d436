// The stage layer against the real generated stage definitions of @moma/proto, over MemoryBus and over NATS.
// Stage subjects are fixed (moma.intent.classify, ...) and other test files share the CI NATS, so the NATS cases run
// on a nats-server of their own (skipped when no nats-server binary is on PATH).
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClassifyRequest,
  ClassifyResponse,
  IntentStageDefinition,
  ListModelsResponse,
  OrchestratorStageDefinition,
  RouteOptions,
  RoutingMode,
  ScoringStageDefinition,
  Topics,
  type ArtifactPublished,
  type ScoreRequest,
  type ScoreResponse,
} from '@moma/proto';
import type { Bus } from './contracts.ts';
import { MemoryBus } from './bus-memory.ts';
import { connectNatsBus, type NatsBus } from './bus-nats.ts';
import { Code, MomaError } from './errors.ts';
import { publishEvent, serveStage, stageClient, stageName, stageSubject, subscribeEvent } from './stage.ts';
import { freePort, hasBinary, sleep, startLocalServer, stopLocalServer } from './test-support/local-server.ts';

describe('stage layer', () => {
  it('stage - the service name is the definition name without "Stage", lower-cased', () => {
    expect(stageName(IntentStageDefinition)).toBe('intent');
    expect(stageName(ScoringStageDefinition)).toBe('scoring');
    expect(stageName(OrchestratorStageDefinition)).toBe('orchestrator');
  });

  it('stage - subjects are moma.<stage>.<method in snake_case>', () => {
    expect(stageSubject(IntentStageDefinition, IntentStageDefinition.methods.classify)).toBe('moma.intent.classify');
    expect(stageSubject(ScoringStageDefinition, ScoringStageDefinition.methods.score)).toBe('moma.scoring.score');
    expect(stageSubject(ScoringStageDefinition, ScoringStageDefinition.methods.listModels)).toBe('moma.scoring.list_models');
    expect(stageSubject(OrchestratorStageDefinition, OrchestratorStageDefinition.methods.recordTurn)).toBe('moma.orchestrator.record_turn');
    expect(Object.values(OrchestratorStageDefinition.methods).map((m) => stageSubject(OrchestratorStageDefinition, m))).toEqual([
      'moma.orchestrator.decide',
      'moma.orchestrator.record_turn',
      'moma.orchestrator.create_session',
      'moma.orchestrator.register_agent',
      'moma.orchestrator.update_agent',
      'moma.orchestrator.remove_agent',
      'moma.orchestrator.list_agents',
      'moma.orchestrator.list_sessions',
    ]);
  });

  it('stage - serving a stage without a handler for one of its rpcs fails naming the rpc', () => {
    const bus = new MemoryBus();
    const partial = { score: async () => ({}) } as never;
    expect(() => serveStage(bus, ScoringStageDefinition, partial)).toThrow(/moma\.v1\.ScoringStage.*ListModels/);
  });

  it('stage - client defaults apply to every call and a call own options win', async () => {
    const bus = new MemoryBus();
    await serveStage(bus, IntentStageDefinition, { classify: async () => (await sleep(150), ClassifyResponse.fromPartial({ inScope: true })) });
    const intent = stageClient(bus, IntentStageDefinition, { timeoutMs: 40 });
    await expect(intent.classify(ClassifyRequest.fromPartial({ text: 'slow' }))).rejects.toMatchObject({ code: Code.DEADLINE_EXCEEDED });
    await expect(intent.classify(ClassifyRequest.fromPartial({ text: 'slow' }), { timeoutMs: 2000 })).resolves.toMatchObject({ inScope: true });
  });
});

// --- the same behaviour over both buses ---

/** What a backend gives a suite: a serving and a calling bus on one backend, and how to release them. */
interface Backend {
  server: Bus;
  client: Bus;
  close(): Promise<void>;
}

const natsServerMissing = hasBinary('nats-server') ? '' : ' (skipped: no nats-server binary on PATH)';

/** A private nats-server with JetStream, so fixed stage subjects cannot meet another test file's servers. */
async function privateNats(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'moma-stage-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  const child: ChildProcess = await startLocalServer('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], url, port);
  return {
    url,
    stop: async () => {
      await stopLocalServer(child);
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

const backends: Array<{ label: string; skip: string; open(): Promise<Backend> }> = [
  {
    label: 'MemoryBus',
    skip: '',
    open: async () => {
      const root = new MemoryBus();
      const [server, client] = [root.connect(), root.connect()];
      return { server, client, close: async () => void (await Promise.all([server.close(), client.close()])) };
    },
  },
  {
    label: 'NatsBus on its own nats-server',
    skip: natsServerMissing,
    open: async () => {
      const nats = await privateNats();
      const server = await connectNatsBus({ url: nats.url, name: 'stage-server' });
      const client = await connectNatsBus({ url: nats.url, name: 'stage-client' });
      return {
        server,
        client,
        close: async () => {
          await Promise.all([server.close(), client.close()]);
          await nats.stop();
        },
      };
    },
  },
];

const scoring = {
  score: async (req: ScoreRequest): Promise<ScoreResponse> => {
    if (req.text === 'no-artifact') throw new MomaError(Code.FAILED_PRECONDITION, 'no router artifact loaded');
    return { ranked: [], mode: req.options?.mode ?? RoutingMode.ROUTING_MODE_UNSPECIFIED, reason: `scored ${req.text}`, routerVersion: 'v7' };
  },
  listModels: async () =>
    ListModelsResponse.fromPartial({ models: [{ id: 'gpt-x', inputPricePerMtok: 1.25, outputPricePerMtok: 10, provider: 'openai' }], routerVersion: 'v7' }),
  describeFront: async () => ({ routerVersion: 'v7', models: [], modes: [], bestModel: '' }),
};

for (const backend of backends) {
  describe.skipIf(backend.skip !== '')(`stage over ${backend.label}${backend.skip}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await backend.open();
    });
    afterAll(async () => b?.close());

    it('stage - a served stage answers typed calls on every rpc', async () => {
      const intentSub = await serveStage(b.server, IntentStageDefinition, {
        classify: async (req) =>
          ClassifyResponse.fromPartial({
            categories: [{ category: `cat:${req.text}`, score: 0.75 }],
            candidates: [{ agentId: 'weather-bot', score: 0.5, category: req.tenant }],
            inScope: req.topK > 2,
            threshold: 0.25,
          }),
      });
      const scoringSub = await serveStage(b.server, ScoringStageDefinition, scoring, { version: '1.4.0' });
      try {
        const intent = stageClient(b.client, IntentStageDefinition);
        expect(await intent.classify(ClassifyRequest.fromPartial({ text: 'rain', topK: 3, tenant: 'acme' }))).toEqual({
          categories: [{ category: 'cat:rain', score: 0.75 }],
          candidates: [{ agentId: 'weather-bot', score: 0.5, category: 'acme' }],
          inScope: true,
          threshold: 0.25,
        });
        const scorer = stageClient(b.client, ScoringStageDefinition);
        expect(await scorer.score({ text: 'hello', context: [], options: RouteOptions.fromPartial({ mode: RoutingMode.ROUTING_MODE_COST }) })).toMatchObject({
          mode: RoutingMode.ROUTING_MODE_COST,
          reason: 'scored hello',
          routerVersion: 'v7',
        });
        expect(await scorer.listModels({})).toEqual({
          models: [{ id: 'gpt-x', inputPricePerMtok: 1.25, outputPricePerMtok: 10, provider: 'openai' }],
          routerVersion: 'v7',
          unserved: [],
          unknown: [],
        });
      } finally {
        await Promise.all([intentSub.unsubscribe(), scoringSub.unsubscribe()]);
      }
    });

    it('stage - a handler MomaError reaches the caller with the same code and message', async () => {
      const sub = await serveStage(b.server, ScoringStageDefinition, scoring);
      try {
        const err = await stageClient(b.client, ScoringStageDefinition)
          .score({ text: 'no-artifact', context: [] })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(MomaError);
        expect(err).toMatchObject({ code: Code.FAILED_PRECONDITION, message: 'no router artifact loaded' });
      } finally {
        await sub.unsubscribe();
      }
    });

    it('stage - after unsubscribe every rpc of the stage is UNAVAILABLE', async () => {
      const sub = await serveStage(b.server, ScoringStageDefinition, scoring);
      const scorer = stageClient(b.client, ScoringStageDefinition, { timeoutMs: 500 });
      await expect(scorer.listModels({})).resolves.toMatchObject({ routerVersion: 'v7' });
      await sub.unsubscribe();
      await expect(scorer.listModels({})).rejects.toMatchObject({ code: Code.UNAVAILABLE });
      await expect(scorer.score({ text: 'x', context: [] })).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    });

    it('stage - publishEvent and subscribeEvent round-trip an artifact event', async () => {
      const got: ArtifactPublished[] = [];
      const sub = await subscribeEvent(b.server, Topics.artifact, (event) => void got.push(event));
      try {
        await publishEvent(b.client, Topics.artifact, { version: 'v8', path: '/artifacts/router/v8' });
        for (let i = 0; i < 200 && got.length < 1; i++) await sleep(10);
        expect(got).toEqual([{ version: 'v8', path: '/artifacts/router/v8' }]);
      } finally {
        await sub.unsubscribe();
      }
    });
  });
}

describe.skipIf(natsServerMissing !== '')(`stage discovery over NATS${natsServerMissing}`, () => {
  let nats: Awaited<ReturnType<typeof privateNats>>;
  let bus: NatsBus;
  beforeAll(async () => {
    nats = await privateNats();
    bus = await connectNatsBus({ url: nats.url, name: 'stage-discovery' });
  });
  afterAll(async () => {
    await bus?.close();
    await nats?.stop();
  });

  it('stage - a served stage is one service in $SRV.INFO with an endpoint per rpc', async () => {
    await serveStage(bus, ScoringStageDefinition, scoring, { version: '1.4.0' });
    const reply = await bus.nc.request('$SRV.INFO.scoring', undefined, { timeout: 1000 });
    const info = JSON.parse(new TextDecoder().decode(reply.data)) as { endpoints: Array<{ name: string; subject: string; queue_group: string }> };
    expect(info).toMatchObject({ type: 'io.nats.micro.v1.info_response', name: 'scoring', version: '1.4.0', description: 'moma.v1.ScoringStage' });
    expect(info.endpoints.map((e) => [e.name, e.subject, e.queue_group])).toEqual([
      ['Score', 'moma.scoring.score', 'scoring'],
      ['ListModels', 'moma.scoring.list_models', 'scoring'],
      ['DescribeFront', 'moma.scoring.describe_front', 'scoring'],
    ]);
  });
});
