// The gRPC door: moma.v1.Router and moma.v1.AgentRegistry, plus standard health and reflection services.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Bus, Logger } from '@moma/platform';
import { MomaError, Subjects, toGrpcStatus } from '@moma/platform';
import {
  AgentRegistryService,
  ListAgentsRequest,
  ListAgentsResponse,
  RegisterAgentRequest,
  RegisterAgentResponse,
  RemoveAgentRequest,
  RemoveAgentResponse,
  RouteOptions,
  RouterService,
  UpdateAgentRequest,
  UpdateAgentResponse,
  type AgentRegistryServer,
  type ChatRequest,
  type CreateSessionRequest,
  type ChatResponse,
  type RouteRequest,
  type RouterServer,
} from '@moma/proto';
import type { GatewayRouter } from './router.ts';
import { annotate, failSpan, inSpan, parentFromMetadata } from './tracing.ts';
import type { Turn } from './turn.ts';

export const SERVICE_NAMES = ['moma.v1.Router', 'moma.v1.AgentRegistry'] as const;
const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));

export function grpcError(err: unknown): Partial<grpc.StatusObject> {
  const e = MomaError.from(err);
  return { code: toGrpcStatus(e.code), details: e.message };
}

function turnFrom(req: RouteRequest | ChatRequest): Turn {
  return {
    sessionId: req.sessionId,
    messages: req.messages,
    options: req.options ?? RouteOptions.fromPartial({}),
    switchTo: req.switchTo,
    maxTokens: 'maxTokens' in req ? req.maxTokens : 0,
    temperature: 'temperature' in req ? req.temperature : undefined,
    pinnedModel: '',
  };
}

function unary<Req, Res>(name: string, fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    inSpan(name, parentFromMetadata(call.metadata), () => fn(call.request)).then(
      (res) => callback(null, res),
      (err: unknown) => callback(grpcError(err)),
    );
  };
}

function routerServer(router: GatewayRouter): RouterServer {
  return {
    route: unary('moma.v1.Router/Route', async (req: RouteRequest) => {
      const { decision } = await router.route(turnFrom(req));
      return { decision };
    }),
    listModels: unary('moma.v1.Router/ListModels', () => router.listModels()),
    createSession: unary('moma.v1.Router/CreateSession', async (req: CreateSessionRequest) => ({
      sessionId: await router.createSession(req.tenant),
    })),
    chat: (call) => {
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      void inSpan('moma.v1.Router/Chat', parentFromMetadata(call.metadata), async (span) => {
        let started = false;
        try {
          const { outcome } = await router.chat(
            turnFrom(call.request),
            ({ decision }) => {
              annotate(span, decision);
              started = true;
              call.write({ decision, agentState: '' } satisfies ChatResponse);
            },
            (ev) => {
              if (ev.delta !== undefined) call.write({ delta: ev.delta, agentState: ev.agentState });
              else if (ev.fallback !== undefined) call.write({ fallback: ev.fallback, agentState: ev.agentState });
            },
            abort.signal,
          );
          if (outcome.usage) span.setAttribute('app.gateway.served_by', outcome.usage.servedBy);
          if (outcome.usage) call.write({ usage: outcome.usage, agentState: outcome.agentState });
          call.end();
        } catch (err) {
          if (started) failSpan(span, err);
          if (!abort.signal.aborted) call.emit('error', grpcError(err));
          if (!started) throw err;
        }
      }).catch(() => undefined);
    },
  };
}

function registryServer(bus: Bus): AgentRegistryServer {
  return {
    registerAgent: unary('moma.v1.AgentRegistry/RegisterAgent', (req: RegisterAgentRequest) =>
      bus.request(Subjects.registryRegister, req, RegisterAgentRequest, RegisterAgentResponse, { timeoutMs: 5000 }),
    ),
    updateAgent: unary('moma.v1.AgentRegistry/UpdateAgent', (req: UpdateAgentRequest) =>
      bus.request(Subjects.registryUpdate, req, UpdateAgentRequest, UpdateAgentResponse, { timeoutMs: 5000 }),
    ),
    removeAgent: unary('moma.v1.AgentRegistry/RemoveAgent', (req: RemoveAgentRequest) =>
      bus.request(Subjects.registryRemove, req, RemoveAgentRequest, RemoveAgentResponse),
    ),
    listAgents: unary('moma.v1.AgentRegistry/ListAgents', (req: ListAgentsRequest) =>
      bus.request(Subjects.registryList, req, ListAgentsRequest, ListAgentsResponse),
    ),
  };
}

export interface GrpcGateway {
  server: grpc.Server;
  health: HealthImplementation;
}

export function buildGrpcServer(router: GatewayRouter, logger: Logger): GrpcGateway {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024, 'grpc.enable_channelz': 0 });
  server.addService(RouterService, routerServer(router));
  server.addService(AgentRegistryService, registryServer(router.bus));
  const health = new HealthImplementation({ '': 'NOT_SERVING', ...Object.fromEntries(SERVICE_NAMES.map((s) => [s, 'NOT_SERVING'])) });
  health.addToServer(server);
  if (existsSync(PROTO_DIR)) {
    // Reflection from the .proto files themselves, so grpcurl sees the documented contract.
    const pkg = protoLoader.loadSync(['moma/v1/router.proto', 'moma/v1/agents.proto'], { includeDirs: [PROTO_DIR] });
    new ReflectionService(pkg).addToServer(server);
  } else {
    logger.warn({ protoDir: PROTO_DIR }, 'proto files not found; gRPC reflection disabled');
  }
  return { server, health };
}

export function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}
