// The gateway as its own process: env → telemetry → context (NATS) → servers; SIGTERM stops taking requests,
// lets those in flight finish, drains NATS, then flushes spans.
import { closeServiceContext, createLogger, createServiceContext, onShutdown, startTelemetry } from '@moma/platform';
import { startGateway } from './app.ts';
import { gatewayContextEnv, loadGatewayConfig } from './config.ts';

try {
  const config = loadGatewayConfig();
  const telemetry = startTelemetry('gateway');
  const ctx = await createServiceContext('gateway', gatewayContextEnv());
  const gateway = await startGateway(ctx, config);
  onShutdown(() => gateway.stop(), { name: 'gateway servers' });
  onShutdown(() => closeServiceContext(ctx), { name: 'bus' });
  onShutdown(() => telemetry.shutdown(), { last: true, name: 'telemetry' });
} catch (err) {
  createLogger('gateway').error({ err }, 'gateway failed to start');
  process.exit(1);
}
