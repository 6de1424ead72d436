// Builds the executor from a context and config and serves it over gRPC (moma.v1.Executor + grpc.health.v1).
// Called in-process by the embedded launcher and by main.ts.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { MomaError, type Metered, type ServiceContext, type ServiceHandle } from '@moma/platform';
import { ExecutorService, type ProviderStatusResponse } from '@moma/proto';
import { Breakers } from './breakers.ts';
import { ExecutorMetrics } from './metrics.ts';
import type { ExecutorConfig } from './config.ts';
import { Executor } from './execute.ts';
import { ProviderRegistry } from './providers.ts';
import { executeHandler, UsagePublisher } from './server.ts';

/** With `ctx.metrics` (a PlatformContext) every Execute call is counted and timed. */
export async function startExecutor(
  ctx: ServiceContext & Metered,
  config: ExecutorConfig,
): Promise<ServiceHandle & { port: number; breakers: Breakers }> {
  const logger = ctx.logger;
  const drainMs = config.drainMs ?? 25_000;
  const requestTimeoutMs = config.requestTimeoutMs ?? 60_000;
  const timeouts = { firstTokenMs: config.firstTokenTimeoutMs, idleMs: config.idleTimeoutMs, totalMs: config.totalTimeoutMs ?? 60_000 };
  // The client-level timeout only bounds reaching the response headers; StreamDeadline covers the stream.
  const providers = new ProviderRegistry(config.providers, { timeoutMs: config.firstTokenTimeoutMs });
  // Breaker state lives in the context's store (Redis when REDIS_URL is set), under breaker:* keys only the executor
  // writes; a half-open probe may take as long as a request may.
  const b = config.breaker ?? { failures: 5, cooldownMs: 30_000, cacheMs: 1_000 };
  const breakers = new Breakers(ctx.store, logger, { ...b, probeMs: requestTimeoutMs });
  const metrics = ctx.registry ? new ExecutorMetrics(ctx.registry) : undefined;
  const executor = new Executor({
    ...(metrics ? { metrics } : {}),
    providers,
    breakers,
    agentCardTtlMs: config.agentCardTtlMs,
    agentUrls: config.agents,
    timeouts,
    requestTimeoutMs,
    maxAttempts: config.maxAttempts ?? 3,
    logger,
  });
  const usage = new UsagePublisher(ctx.bus, logger, { batchMs: config.usageBatchMs ?? 25, ...(config.usageBatchMs === 0 ? { maxBatch: 1 } : {}) });

  // channelz off: its per-call bookkeeping is measurable at thousands of calls per second and nothing reads it here.
  const server = new Server({
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.enable_channelz': 0,
  });
  server.addService(ExecutorService, {
    execute: executeHandler(executor, usage, logger, ctx.metrics, metrics?.inflight),
    providerStatus: (_call: unknown, callback: (err: { code: number; details: string } | null, res?: ProviderStatusResponse) => void) => {
      breakers.list().then(
        (rows) => callback(null, { providers: rows.map((r) => ({ provider: r.provider, model: r.model, state: r.state, failures: r.failures, openUntilMs: r.openUntil })) }),
        (err: unknown) => callback({ code: 14, details: `breaker state unavailable: ${MomaError.from(err).message}` }),
      );
    },
  });
  const health = new HealthImplementation({ '': 'SERVING', 'moma.v1.Executor': 'SERVING' });
  health.addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${config.host}:${config.port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  logger.info(
    { port, providers: config.providers.map((p) => ({ name: p.name, baseUrl: p.baseUrl, models: p.models })), agents: Object.keys(config.agents) },
    'executor listening',
  );

  let stopping: Promise<void> | undefined;
  return {
    port,
    breakers,
    stop() {
      stopping ??= (async () => {
        health.setStatus('', 'NOT_SERVING');
        health.setStatus('moma.v1.Executor', 'NOT_SERVING');
        // tryShutdown refuses new calls and waits for running streams; only a stuck stream is cut after drainMs.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            logger.warn({ afterMs: drainMs }, 'streams still open at shutdown; forcing');
            server.forceShutdown();
            resolve();
          }, drainMs);
          timer.unref();
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        await usage.settle();
        await breakers.settle();
        await providers.close().catch(() => undefined);
        logger.info({}, 'executor stopped');
      })();
      return stopping;
    },
  };
}
