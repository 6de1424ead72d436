// `node services/executor/src/main.ts`: the executor as its own process (gRPC, NATS for usage events, Redis for the
// providers' shared breaker state), with /healthz, /readyz and /metrics on HEALTH_PORT. SIGTERM marks it
// NOT_SERVING, lets running streams finish (EXECUTOR_DRAIN_MS), drains NATS, quits Redis, then flushes spans
// (runService, @moma/platform). A Redis outage later on does not fail calls: breakers then work per instance.
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { onShutdown, runService } from '@moma/platform';
import { startExecutor } from './app.ts';
import { loadExecutorConfig } from './config.ts';

type HealthClient = {
  check(req: { service: string }, opts: { deadline: number }, cb: (err: ServiceError | null, res: { status: string }) => void): void;
  close(): void;
};
let probe: HealthClient | undefined;

await runService({
  name: 'executor',
  config: loadExecutorConfig,
  healthPort: (config) => config.common.HEALTH_PORT,
  // Sessions are the orchestrator's; the executor's only shared state is its breaker:* keys (Retry-After windows
  // and circuit breakers per provider+model), in the context's store: Redis when REDIS_URL is set.
  start: startExecutor,
  // Running streams may take EXECUTOR_DRAIN_MS to finish; the rest of the shutdown gets 5 s more.
  shutdownDeadlineMs: (config) => (config.drainMs ?? 25_000) + 5_000,
  // Healthy = its own gRPC server answers grpc.health.v1 SERVING for moma.v1.Executor on the bound port.
  health: async (_ctx, executor, config) => {
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    probe ??= new (makeGenericClientConstructor(healthService, 'grpc.health.v1.Health'))(
      `${host.includes(':') ? `[${host}]` : host}:${executor.port}`,
      credentials.createInsecure(),
    ) as unknown as HealthClient;
    const res = await new Promise<{ status: string }>((resolve, reject) =>
      probe!.check({ service: 'moma.v1.Executor' }, { deadline: Date.now() + 1000 }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    return { ok: res.status === 'SERVING', details: { grpc: res.status } };
  },
  describe: (executor) => ({ grpcPort: executor.port }),
});
onShutdown(() => probe?.close(), { name: 'health probe' });
