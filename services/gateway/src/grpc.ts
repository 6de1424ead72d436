// The gRPC door: moma.v1.Router and moma.v1.AgentRegistry, plus standard health and reflection services.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { targetText, type Turn } from '@moma/core/rules';
import type { Logger, RequestMetrics } from '@moma/platform';
import { Code, MomaError, codeName, toGrpcStatus } from '@moma/platform';
import type { GatewayMetrics } from './metrics.ts';
import {
  AgentRegistryService,
  RouteOptions,
  RouterService,
  Scope,
  type AgentRegistryServer,
  type ChatRequest,
  type CreateSessionRequest,
  type ChatResponse,
  type RouteRequest,
  type RouterServer,
} from '@moma/proto';
import type { GatewayRouter } from './router.ts';
import type { Stages } from './decide.ts';
import { parseChatBody } from './http-body.ts';
import { ownTenants, REGISTRY_WRITE_TIMEOUT } from './http-agents.ts';
import { asCaller, requireScope, tenantFor, type Auth, type Principal } from './auth.ts';
import { annotate, annotateServed, failSpan, grpcAttributes, inSpan, parentFromMetadata } from './tracing.ts';
import type { Span } from '@opentelemetry/api';

export const SERVICE_NAMES = ['moma.v1.Router', 'moma.v1.AgentRegistry'] as const;
const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));

export function grpcError(err: unknown): Partial<grpc.StatusObject> {
  const e = MomaError.from(err);
  return { code: toGrpcStatus(e.code), details: e.message };
}

function turnFrom(req: RouteRequest | ChatRequest): Turn {
  if ('openaiRequest' in req && req.openaiRequest.length > 0) return openAiTurn(req);
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

type Unary = <Req, Res>(name: string, scope: Scope, fn: (req: Req, caller: Principal | undefined) => Promise<Res>) => grpc.handleUnaryCall<Req, Res>;

const meta = (md: grpc.Metadata, key: string): string | undefined => {
  const v = md.get(key)[0];
  return typeof v === 'string' ? v : undefined;
};

/** The caller named by the call's metadata (`authorization: Bearer <key>` or `x-api-key`), checked for `scope`. */
async function callerOf(auth: Auth, md: grpc.Metadata, scope: Scope): Promise<Principal | undefined> {
  const p = await auth.principal(meta(md, 'authorization'), meta(md, 'x-api-key'));
  requireScope(p, scope);
  return p;
}

/** A Chat whose request is OpenAI JSON: the HTTP door's rules and forwarding, with the gRPC routing controls. */
function openAiTurn(req: ChatRequest): Turn {
  let json: unknown;
  try {
    json = JSON.parse(req.openaiRequest.toString('utf8'));
  } catch (err) {
    throw MomaError.invalidArgument(`openai_request: not valid JSON (${(err as Error).message})`, { field: 'openai_request' });
  }
  const { turn } = parseChatBody(json, undefined);
  return {
    ...turn,
    sessionId: req.sessionId || turn.sessionId,
    switchTo: req.switchTo || turn.switchTo,
    ...(req.options ? { options: req.options } : {}),
    // A gRPC Chat is a stream.
    forward: { ...turn.forward, stream: true },
  };
}

/** Unary handlers in a span, each call counted and timed under its full method name when `metrics` is given. */
function unaryHandlers(auth: Auth, metrics: Meters): Unary {
  return (name, scope, fn) => (call, callback) => {
    const t0 = performance.now();
    let span: Span | undefined;
    inSpan(name, parentFromMetadata(call.metadata), async (s) => {
      span = s;
      grpcAttributes(s, name);
      return fn(call.request, await callerOf(auth, call.metadata, scope));
    }).then(
      (res) => {
        span?.setAttribute('rpc.grpc.status_code', 0);
        observeCall(metrics, name, Code.OK, t0);
        callback(null, res);
      },
      (err: unknown) => {
        const code = MomaError.from(err).code;
        span?.setAttribute('rpc.grpc.status_code', toGrpcStatus(code));
        observeCall(metrics, name, code, t0);
        callback(grpcError(err));
      },
    );
  };
}

/** The platform's request metrics and the gateway's own (door "grpc", the gRPC code name as status). */
interface Meters {
  requests: RequestMetrics | undefined;
  gateway: GatewayMetrics | undefined;
}

function observeCall(m: Meters, method: string, code: Code, t0: number): void {
  const seconds = (performance.now() - t0) / 1000;
  m.requests?.observe(method, code, seconds);
  m.gateway?.request(method, codeName(code), seconds);
}

function routerServer(router: GatewayRouter, metrics: Meters): RouterServer {
  const unary = unaryHandlers(router.auth, metrics);
  return {
    route: unary('moma.v1.Router/Route', Scope.SCOPE_ROUTE, async (req: RouteRequest, caller) => {
      const { decision } = await router.route(asCaller(caller, turnFrom(req)));
      return { decision };
    }),
    listModels: unary('moma.v1.Router/ListModels', Scope.SCOPE_ROUTE, () => router.listModels()),
    createSession: unary('moma.v1.Router/CreateSession', Scope.SCOPE_ROUTE, async (req: CreateSessionRequest, caller) => ({
      sessionId: await router.createSession(tenantFor(caller, req.tenant)),
    })),
    chat: (call) => {
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      const t0 = performance.now();
      const observe = (code: Code) => observeCall(metrics, 'moma.v1.Router/Chat', code, t0);
      void inSpan('moma.v1.Router/Chat', parentFromMetadata(call.metadata), async (span) => {
        grpcAttributes(span, 'moma.v1.Router/Chat');
        let started = false;
        try {
          const caller = await callerOf(router.auth, call.metadata, Scope.SCOPE_ROUTE);
          const { outcome } = await router.chat(
            asCaller(caller, turnFrom(call.request)),
            ({ decision }) => {
              annotate(span, decision);
              started = true;
              call.write({ decision, agentState: '' } satisfies ChatResponse);
            },
            (ev) => {
              if (ev.chunk !== undefined) call.write({ chunk: ev.chunk, agentState: ev.agentState });
              else if (ev.delta !== undefined) call.write({ delta: ev.delta, agentState: ev.agentState });
              else if (ev.fallback !== undefined) call.write({ fallback: ev.fallback, agentState: ev.agentState });
            },
            abort.signal,
          );
          annotateServed(span, outcome.usage);
          span.setAttribute('rpc.grpc.status_code', 0);
          if (outcome.usage) call.write({ usage: outcome.usage, agentState: outcome.agentState });
          call.end();
          observe(Code.OK);
        } catch (err) {
          const code = abort.signal.aborted ? Code.CANCELLED : MomaError.from(err).code;
          observe(code);
          span.setAttribute('rpc.grpc.status_code', toGrpcStatus(code));
          if (started) failSpan(span, err);
          if (!abort.signal.aborted) call.emit('error', grpcError(err));
          if (!started) throw err;
        }
      }).catch(() => undefined);
    },
  };
}

// The public registry forwards to the orchestrator stage with the same messages.
// A key without the admin scope registers agents for its own tenant only, and changes or removes only those.
function registryServer(router: GatewayRouter, metrics: Meters): AgentRegistryServer {
  const orchestrator = router.stages.orchestrator;
  const unary = unaryHandlers(router.auth, metrics);
  return {
    registerAgent: unary('moma.v1.AgentRegistry/RegisterAgent', Scope.SCOPE_AGENTS, (req, caller) =>
      orchestrator.registerAgent({ ...req, tenants: ownTenants(caller, req.tenants), owner: caller?.tenant ?? '' }, REGISTRY_WRITE_TIMEOUT),
    ),
    updateAgent: unary('moma.v1.AgentRegistry/UpdateAgent', Scope.SCOPE_AGENTS, (req, caller) =>
      orchestrator.updateAgent({ ...req, tenants: req.setTenants ? ownTenants(caller, req.tenants) : req.tenants, owner: caller?.tenant ?? '' }, REGISTRY_WRITE_TIMEOUT),
    ),
    removeAgent: unary('moma.v1.AgentRegistry/RemoveAgent', Scope.SCOPE_AGENTS, (req, caller) => orchestrator.removeAgent({ ...req, owner: caller?.tenant ?? '' })),
    listAgents: unary('moma.v1.AgentRegistry/ListAgents', Scope.SCOPE_ROUTE, (req, caller) => orchestrator.listAgents({ ...req, tenant: tenantFor(caller, req.tenant) })),
  };
}

export interface GrpcGateway {
  server: grpc.Server;
  health: HealthImplementation;
}

const UNREADABLE = Symbol('unreadable');
const unreadable = (req: unknown): string | undefined =>
  req !== null && typeof req === 'object' ? (req as { [UNREADABLE]?: string })[UNREADABLE] : undefined;

/**
 * grpc-js answers INTERNAL when a request's bytes do not decode; they are the client's error. The service's
 * deserializers here return a marker instead of throwing, and `readableOnly` answers the marker INVALID_ARGUMENT.
 */
function readable<D extends grpc.ServiceDefinition>(def: D): D {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(def)) {
    out[name] = {
      ...m,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return m.requestDeserialize(bytes);
        } catch (err) {
          return { [UNREADABLE]: `request is not a valid ${m.path.slice(1)} message (${(err as Error).message})` };
        }
      },
    };
  }
  return out as D;
}

function readableOnly<I extends object>(impl: I): I {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl) as Array<[string, (call: { request: unknown; emit(e: 'error', s: Partial<grpc.StatusObject>): void }, cb?: grpc.sendUnaryData<unknown>) => void]>) {
    out[name] = (call: Parameters<typeof fn>[0], cb?: grpc.sendUnaryData<unknown>) => {
      const bad = unreadable(call.request);
      if (bad === undefined) return fn(call, cb);
      const status = { code: grpc.status.INVALID_ARGUMENT, details: bad };
      if (cb) cb(status, null);
      else call.emit('error', status);
    };
  }
  return out as I;
}

/** `maxMessageBytes`: the HTTP door's body limit, so both doors accept the same sizes. */
export function buildGrpcServer(
  router: GatewayRouter,
  logger: Logger,
  requestMetrics?: RequestMetrics,
  maxMessageBytes = 4 * 1024 * 1024,
  gatewayMetrics?: GatewayMetrics,
): GrpcGateway {
  const metrics: Meters = { requests: requestMetrics, gateway: gatewayMetrics };
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.enable_channelz': 0 });
  server.addService(readable(RouterService), readableOnly(routerServer(router, metrics)));
  server.addService(readable(AgentRegistryService), readableOnly(registryServer(router, metrics)));
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
