// `node services/scoring/src/main.ts`: env → telemetry → context (NATS/Redis or memory) → scoring stage → health
// server; SIGTERM stops taking work, lets requests in flight answer, drains NATS and flushes spans.
import { closeServiceContext, createServiceContext, onShutdown, startHealthServer, startTelemetry, Subjects } from '@moma/platform';
import { ListModelsRequest, ListModelsResponse } from '@moma/proto';
import { startScoring } from './app.ts';
import { loadScoringConfig } from './config.ts';

try {
  const config = loadScoringConfig();
  const telemetry = startTelemetry('scoring');
  onShutdown(() => telemetry.shutdown(), { last: true, name: 'telemetry' });
  const ctx = await createServiceContext('scoring');
  const scoring = await startScoring(ctx, config);
  // Healthy = this stage answers over the bus (proves NATS and a loaded router).
  const health = await startHealthServer(config.HEALTH_PORT, async () => {
    const res = await ctx.bus.request(Subjects.scoringModels, {}, ListModelsRequest, ListModelsResponse, { timeoutMs: 1000 });
    return { ok: res.models.length > 0, details: { routerVersion: scoring.routerVersion() } };
  });
  onShutdown(
    async () => {
      await scoring.stop();
      await health.close();
      await closeServiceContext(ctx);
    },
    { name: 'scoring' },
  );
  ctx.logger.info({ healthPort: health.port, routerVersion: scoring.routerVersion() }, 'scoring ready');
} catch (err) {
  console.error(`scoring: failed to start: ${(err as Error).message}`);
  process.exit(1);
}
