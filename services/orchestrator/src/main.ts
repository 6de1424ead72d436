// `node services/orchestrator/src/main.ts`: env → telemetry → context (NATS/Redis or memory) → orchestrator
// stage → health server; SIGTERM stops taking work, lets requests in flight answer, drains NATS, quits Redis and
// flushes spans.
import { closeServiceContext, createServiceContext, onShutdown, startHealthServer, startTelemetry, Subjects } from '@moma/platform';
import { OrchestrateRequest, OrchestrateResponse } from '@moma/proto';
import { startOrchestrator } from './app.ts';
import { loadOrchestratorConfig } from './config.ts';

try {
  const config = loadOrchestratorConfig();
  const telemetry = startTelemetry('orchestrator');
  onShutdown(() => telemetry.shutdown(), { last: true, name: 'telemetry' });
  const ctx = await createServiceContext('orchestrator');
  const orchestrator = await startOrchestrator(ctx, config);
  // Healthy = Redis answers and a stateless decide round-trips over the bus (proves NATS).
  const health = await startHealthServer(config.HEALTH_PORT, async () => {
    await ctx.store.get('health:probe');
    await ctx.bus.request(Subjects.orchestratorDecide, OrchestrateRequest.fromPartial({}), OrchestrateRequest, OrchestrateResponse, { timeoutMs: 1000 });
    return { ok: true, details: { agents: orchestrator.registry.size } };
  });
  onShutdown(
    async () => {
      await orchestrator.stop();
      await health.close();
      await closeServiceContext(ctx);
    },
    { name: 'orchestrator' },
  );
  ctx.logger.info({ healthPort: health.port, agents: orchestrator.registry.size }, 'orchestrator ready');
} catch (err) {
  console.error(`orchestrator: failed to start: ${(err as Error).message}`);
  process.exit(1);
}
