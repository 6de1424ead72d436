// `node services/scoring/src/main.ts`: the scoring stage as its own process (NATS/Redis or memory), with /healthz,
// /readyz and /metrics on HEALTH_PORT; boot and graceful shutdown are runService's (@moma/platform).
import { runService, stageClient } from '@moma/platform';
import { ScoringStageDefinition } from '@moma/proto';
import { startScoring } from './app.ts';
import { loadScoringConfig } from './config.ts';

await runService({
  name: 'scoring',
  config: loadScoringConfig,
  healthPort: (config) => config.HEALTH_PORT,
  stateless: true,
  start: startScoring,
  // Healthy = this stage answers over the bus (proves NATS and a loaded router).
  health: async (ctx, scoring) => {
    const res = await stageClient(ctx.bus, ScoringStageDefinition).listModels({}, { timeoutMs: 1000 });
    return { ok: res.models.length > 0, details: { routerVersion: scoring.routerVersion() } };
  },
  describe: (scoring) => ({ routerVersion: scoring.routerVersion() }),
});
