// Wires the gateway: one router (bus + shared executor channel) behind the gRPC and HTTP doors.
import type { Metered, ServiceContext, ServiceHandle } from '@moma/platform';
import { GatewayMetrics } from './metrics.ts';
import { Dashboard } from './dashboard.ts';
import type { GatewayConfig } from './config.ts';
import { bindGrpc, buildGrpcServer, SERVICE_NAMES } from './grpc.ts';
import { buildHttpServer } from './http.ts';
import { GatewayRouter } from './router.ts';

export type GatewaySettings = Pick<
  GatewayConfig,
  | 'GATEWAY_HTTP_PORT'
  | 'GATEWAY_GRPC_PORT'
  | 'GATEWAY_HOST'
  | 'EXECUTOR_ADDR'
  | 'GATEWAY_BODY_LIMIT_BYTES'
  | 'GATEWAY_MODELS_TTL_MS'
  | 'GATEWAY_EXECUTE_TIMEOUT_MS'
> &
  Partial<Pick<GatewayConfig, 'GATEWAY_BODY_TIMEOUT_MS' | 'MOMA_ADMIN_KEY' | 'MOMA_KEY_CACHE_MS' | 'MOMA_SWITCH_COST'>>;

export interface GatewayHandle extends ServiceHandle {
  httpPort: number;
  grpcPort: number;
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8080. */
  httpUrl: string;
  /** host:port of the gRPC API. */
  grpcAddr: string;
  /** The router's health: scoring, orchestrator and the executor channel reachable (what HTTP /healthz answers). */
  health(): ReturnType<GatewayRouter['health']>;
}

/**
 * With `ctx.metrics` (a PlatformContext) every HTTP route and gRPC method is counted and timed; with `ctx.registry`
 * the gateway's own families (requests by door, decisions by target, mode and reason) are recorded too.
 */
export async function startGateway(ctx: ServiceContext & Metered, config: GatewaySettings): Promise<GatewayHandle> {
  const gatewayMetrics = ctx.registry ? new GatewayMetrics(ctx.registry) : undefined;
  const router = new GatewayRouter(ctx.bus, ctx.logger, {
    ...(gatewayMetrics ? { metrics: gatewayMetrics } : {}),
    ...(config.MOMA_ADMIN_KEY ? { adminKey: config.MOMA_ADMIN_KEY } : {}),
    ...(config.MOMA_KEY_CACHE_MS !== undefined ? { keyCacheMs: config.MOMA_KEY_CACHE_MS } : {}),
    executorAddr: config.EXECUTOR_ADDR,
    executeTimeoutMs: config.GATEWAY_EXECUTE_TIMEOUT_MS,
    modelsTtlMs: config.GATEWAY_MODELS_TTL_MS,
    ...(config.MOMA_SWITCH_COST !== undefined ? { switchCost: config.MOMA_SWITCH_COST } : {}),
  });
  // Fed by the bus's usage and feedback events from now on; read by /ui.
  const dashboard = new Dashboard(router);
  await dashboard.start(ctx.bus);
  const http = buildHttpServer(router, ctx.logger, {
    ui: { dashboard, bus: ctx.bus },
    bodyLimit: config.GATEWAY_BODY_LIMIT_BYTES,
    ...(config.GATEWAY_BODY_TIMEOUT_MS ? { bodyTimeoutMs: config.GATEWAY_BODY_TIMEOUT_MS } : {}),
    ...(ctx.metrics ? { metrics: ctx.metrics } : {}),
    ...(gatewayMetrics ? { gatewayMetrics } : {}),
  });
  // gRPC takes the same size limit as HTTP: a message over it is RESOURCE_EXHAUSTED, as HTTP answers 413.
  const { server: grpcServer, health } = buildGrpcServer(router, ctx.logger, ctx.metrics, config.GATEWAY_BODY_LIMIT_BYTES, gatewayMetrics);

  if (!router.auth.enabled) {
    ctx.logger.warn({}, 'MOMA_ADMIN_KEY is not set: the gateway accepts every call without an API key and trusts the tenant it names; set it before exposing the gateway to anyone');
  }
  await http.listen({ host: config.GATEWAY_HOST, port: config.GATEWAY_HTTP_PORT });
  const httpPort = (http.server.address() as { port: number }).port;
  let grpcPort: number;
  try {
    grpcPort = await bindGrpc(grpcServer, config.GATEWAY_HOST, config.GATEWAY_GRPC_PORT);
  } catch (err) {
    await http.close();
    throw err;
  }
  health.setStatus('', 'SERVING');
  for (const s of SERVICE_NAMES) health.setStatus(s, 'SERVING');

  const shownHost = config.GATEWAY_HOST === '0.0.0.0' || config.GATEWAY_HOST === '::' ? '127.0.0.1' : config.GATEWAY_HOST;
  const handle: GatewayHandle = {
    httpPort,
    grpcPort,
    httpUrl: `http://${shownHost}:${httpPort}`,
    grpcAddr: `${shownHost}:${grpcPort}`,
    health: () => router.health(),
    async stop() {
      health.setStatus('', 'NOT_SERVING');
      for (const s of SERVICE_NAMES) health.setStatus(s, 'NOT_SERVING');
      // Stop accepting, let requests in flight finish (fastify close waits; tryShutdown waits for open calls).
      await Promise.all([
        http.close(),
        new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
      ]);
      router.close();
      await dashboard.stop();
    },
  };
  ctx.logger.info({ http: handle.httpUrl, grpc: handle.grpcAddr, executor: config.EXECUTOR_ADDR }, 'gateway listening');
  return handle;
}
