// The executor as its own process: env → telemetry → context (NATS for usage events) → gRPC server. SIGTERM marks
// it NOT_SERVING, lets running streams finish (EXECUTOR_DRAIN_MS), drains NATS, then flushes spans.
import { closeServiceContext, configureShutdown, createLogger, createServiceContext, onShutdown, startTelemetry } from '@moma/platform';
import { startExecutor } from './app.ts';
import { loadExecutorConfig } from './config.ts';

try {
  const config = loadExecutorConfig();
  const telemetry = startTelemetry('executor');
  // The executor keeps no state between calls (the orchestrator owns sessions), so it opens no Redis connection.
  const ctx = await createServiceContext('executor', { ...process.env, REDIS_URL: undefined });
  const executor = await startExecutor(ctx, config);
  configureShutdown({ deadlineMs: (config.drainMs ?? 25_000) + 5_000 });
  onShutdown(() => executor.stop(), { name: 'executor server' });
  onShutdown(() => closeServiceContext(ctx), { name: 'bus' });
  onShutdown(() => telemetry.shutdown(), { last: true, name: 'telemetry' });
} catch (err) {
  createLogger('executor').error({ err }, 'executor failed to start');
  process.exit(1);
}
