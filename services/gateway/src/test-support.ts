// Shared by the gateway's tests: a gateway on free ports over stand-in stages (served on a MemoryBus) and a stand-in
// executor (a real gRPC server), the scoring stand-in both suites rank with, the orchestrator's empty agent registry,
// and a JSON POST to the gateway.
import * as grpc from '@grpc/grpc-js';
import { llmTarget } from '@moma/core/rules';
import { MemoryBus, MemoryStore, MomaError, serveStage, type Logger } from '@moma/platform';
import { DecideResponse, ExecutorService, IntentStageDefinition, OrchestratorStageDefinition, ScoringStageDefinition, type RecordTurnRequest, type RecordTurnResponse } from '@moma/proto';
import { startGateway, type GatewayHandle, type GatewaySettings } from './app.ts';

export const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** A stage method the tests never call. */
const unused = async (): Promise<never> => {
  throw MomaError.internal('not used by the gateway tests');
};

/** The orchestrator stand-in's agent registry: it lists none, and the tests change none. */
export const noAgents = {
  listAgents: async () => ({ agents: [], version: 0, listed: true, nextPageToken: '' }),
  registerAgent: unused,
  updateAgent: unused,
  removeAgent: unused,
  listSessions: async () => ({ sessions: [], total: 0 }),
};

/**
 * The scoring stand-in: two models, `m-large` and a small one named `small`, ranked in that order (only the allowed
 * ones when the request names some), in the mode asked for (balanced when none).
 */
export async function serveScoring(bus: MemoryBus, small: string): Promise<void> {
  await serveStage(bus, ScoringStageDefinition, {
    score: async (req) => {
      const all = [
        { target: llmTarget('m-large'), predictedQuality: 0.9, predictedCostUsd: 0.002, utility: 1 },
        { target: llmTarget(small), predictedQuality: 0.7, predictedCostUsd: 0.0001, utility: 0.8 },
      ];
      const allowed = req.options?.allowedModels ?? [];
      const ranked = allowed.length ? all.filter((c) => allowed.includes(c.target.id)) : all;
      return { ranked, mode: req.options?.mode || 2, reason: `ranked ${ranked.length} models`, routerVersion: 'test-v1' };
    },
    listModels: async () => ({
      models: [
        { id: 'm-large', inputPricePerMtok: 5, outputPricePerMtok: 15, provider: 'p' },
        { id: small, inputPricePerMtok: 0.1, outputPricePerMtok: 0.4, provider: 'p' },
      ],
      unserved: [],
      unknown: [],
      routerVersion: 'test-v1',
    }),
    describeFront: async () => ({ routerVersion: 'test-v1', models: [], modes: [], bestModel: '' }),
  });
}

/**
 * Stages for an LLM-only gateway: intent finds no agent candidate, scoring ranks as `serveScoring` does, and the
 * orchestrator makes session `s-1`, decides "no agent fits" and records every turn (or as `recordTurn` says).
 */
export async function serveLlmOnlyStages(
  bus: MemoryBus,
  opts: { recordTurn?: (req: RecordTurnRequest) => Promise<RecordTurnResponse> } = {},
): Promise<void> {
  await serveStage(bus, IntentStageDefinition, {
    classify: async () => ({ categories: [{ category: 'general', score: 0.8 }], candidates: [], inScope: false, threshold: 0.5 }),
  });
  await serveScoring(bus, 'm-small');
  await serveStage(bus, OrchestratorStageDefinition, {
    createSession: async () => ({ sessionId: 's-1' }),
    decide: async () => DecideResponse.fromPartial({ fsmState: 'llm', reason: 'no agent fits' }),
    recordTurn: opts.recordTurn ?? (async () => ({ fsmState: 'llm', version: 2 })),
    ...noAgents,
  });
}

export interface StandInGateway {
  gw: GatewayHandle;
  /** Stops the gateway, the executor and the bus. */
  stop(): Promise<void>;
}

/**
 * Starts a gateway over stand-ins: `serveStages` serves the stages on a fresh MemoryBus, and `executor` is the
 * executor's implementation, served on a free port the gateway's EXECUTOR_ADDR names.
 */
export async function startStandInGateway(
  serveStages: (bus: MemoryBus) => Promise<void>,
  executor: grpc.UntypedServiceImplementation,
  config: Partial<GatewaySettings> = {},
): Promise<StandInGateway> {
  const bus = new MemoryBus({ timeoutMs: 1000 });
  const server = new grpc.Server();
  let gw: GatewayHandle | undefined;
  const stop = async () => {
    await gw?.stop();
    server.forceShutdown();
    await bus.close();
  };
  try {
    await serveStages(bus);
    server.addService(ExecutorService, executor);
    const executorPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    gw = await startGateway(
      { name: 'gateway', bus: bus.connect(), store: new MemoryStore(), logger: quiet },
      {
        GATEWAY_HTTP_PORT: 0,
        GATEWAY_GRPC_PORT: 0,
        GATEWAY_HOST: '127.0.0.1',
        EXECUTOR_ADDR: `127.0.0.1:${executorPort}`,
        GATEWAY_BODY_LIMIT_BYTES: 64 * 1024,
        GATEWAY_MODELS_TTL_MS: 1000,
        GATEWAY_EXECUTE_TIMEOUT_MS: 5000,
        ...config,
      },
    );
    return { gw, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** POSTs `body` (JSON, or a string sent as it is) to the gateway at `httpUrl`. */
export function postJson(httpUrl: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
