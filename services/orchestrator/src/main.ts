// `node services/orchestrator/src/main.ts`: the orchestrator stage as its own process (NATS/Redis or memory), with
// /healthz, /readyz and /metrics on HEALTH_PORT; boot and graceful shutdown are runService's (@moma/platform).
import { runService, stageClient } from '@moma/platform';
import { DecideRequest, OrchestratorStageDefinition } from '@moma/proto';
import { startOrchestrator } from './app.ts';
import { loadOrchestratorConfig } from './config.ts';

await runService({
  name: 'orchestrator',
  config: loadOrchestratorConfig,
  healthPort: (config) => config.HEALTH_PORT,
  start: startOrchestrator,
  // Healthy = Redis answers and a stateless decide round-trips over the bus (proves NATS).
  health: async (ctx, orchestrator) => {
    await ctx.store.get('health:probe');
    await stageClient(ctx.bus, OrchestratorStageDefinition).decide(DecideRequest.fromPartial({}), { timeoutMs: 1000 });
    return { ok: true, details: { agents: orchestrator.registry.size } };
  },
  describe: (orchestrator) => ({ agents: orchestrator.registry.size }),
});
