// `node services/intent/src/main.ts`: the intent stage as its own process (NATS/Redis or memory), with /healthz,
// /readyz and /metrics on HEALTH_PORT; boot and graceful shutdown are runService's (@moma/platform).
import { runService, stageClient } from '@moma/platform';
import { IntentStageDefinition } from '@moma/proto';
import { startIntent } from './app.ts';
import { loadIntentConfig } from './config.ts';

await runService({
  name: 'intent',
  config: loadIntentConfig,
  healthPort: (config) => config.HEALTH_PORT,
  stateless: true,
  start: startIntent,
  // Healthy = a classify round trip over the bus (proves NATS and a serving index).
  health: async (ctx, intent) => {
    await stageClient(ctx.bus, IntentStageDefinition).classify({ text: 'health check', context: [], topK: 1, tenant: '' }, { timeoutMs: 1000 });
    return { ok: true, details: { agents: intent.agentCount(), registryVersion: intent.registryVersion() } };
  },
  describe: (intent) => ({ agents: intent.agentCount() }),
});
