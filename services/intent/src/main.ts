// `node services/intent/src/main.ts`: env → telemetry → context (NATS/Redis or memory) → intent stage → health
// server; SIGTERM stops taking work, lets requests in flight answer, drains NATS and flushes spans.
import { closeServiceContext, createServiceContext, onShutdown, startHealthServer, startTelemetry, Subjects } from '@moma/platform';
import { ClassifyRequest, ClassifyResponse } from '@moma/proto';
import { startIntent } from './app.ts';
import { loadIntentConfig } from './config.ts';

try {
  const config = loadIntentConfig();
  const telemetry = startTelemetry('intent');
  onShutdown(() => telemetry.shutdown(), { last: true, name: 'telemetry' });
  const ctx = await createServiceContext('intent');
  const intent = await startIntent(ctx, config);
  // Healthy = a classify round trip over the bus (proves NATS and a serving index).
  const health = await startHealthServer(config.HEALTH_PORT, async () => {
    await ctx.bus.request(Subjects.intentClassify, { text: 'health check', context: [], topK: 1, tenant: '' }, ClassifyRequest, ClassifyResponse, {
      timeoutMs: 1000,
    });
    return { ok: true, details: { agents: intent.agentCount() } };
  });
  onShutdown(
    async () => {
      await intent.stop();
      await health.close();
      await closeServiceContext(ctx);
    },
    { name: 'intent' },
  );
  ctx.logger.info({ healthPort: health.port, agents: intent.agentCount() }, 'intent ready');
} catch (err) {
  console.error(`intent: failed to start: ${(err as Error).message}`);
  process.exit(1);
}
