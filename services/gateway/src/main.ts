// `node services/gateway/src/main.ts`: the gateway as its own process (HTTP + gRPC doors, NATS, no Redis), with
// /healthz, /readyz and /metrics on HEALTH_PORT; boot and graceful shutdown (stop taking requests, let those in
// flight finish, drain NATS, flush spans) are runService's (@moma/platform).
import { runService } from '@moma/platform';
import { startGateway } from './app.ts';
import { loadGatewayConfig } from './config.ts';

await runService({
  name: 'gateway',
  config: loadGatewayConfig,
  healthPort: (config) => config.HEALTH_PORT,
  stateless: true,
  start: startGateway,
  // Healthy = what the API's own /healthz checks: scoring, orchestrator (+ its store) and the executor channel.
  health: async (_ctx, gateway) => {
    const report = await gateway.health();
    return { ok: report.ok, details: { checks: report.checks } };
  },
  describe: (gateway) => ({ http: gateway.httpUrl, grpc: gateway.grpcAddr }),
});
