// Embedded mode: the five services in this one process, sharing one MemoryBus and one MemoryStore behind the same
// interfaces NATS and Redis implement — so a fresh clone runs with no infrastructure. With no provider configured,
// a local fake OpenAI-compatible upstream is started as a clearly labelled demo provider.
import {
  MemoryBus,
  MemoryStore,
  createLogger,
  createServiceContext,
  metricsRegistry,
  requestMetrics,
  startHealthServer,
  type Env,
  type HealthServer,
  type Logger,
  type ServiceHandle,
} from '@moma/platform';
import type { FakeOpenAI } from '@moma/testkit';
import { loadExecutorConfig, startExecutor } from '@moma/executor';
import { loadGatewayConfig, startGateway, type GatewayHandle } from '@moma/gateway';
import { loadIntentConfig, startIntent } from '@moma/intent';
import { loadOrchestratorConfig, startOrchestrator } from '@moma/orchestrator';
import { loadRouter, loadScoringConfig, startScoring } from '@moma/scoring';

export interface Embedded {
  gateway: GatewayHandle;
  /** /healthz, /readyz and /metrics of the whole process (undefined when its port is 0). */
  health: HealthServer | undefined;
  demo: FakeOpenAI | undefined;
  stop(): Promise<void>;
}

async function startDemoProvider(env: Env, log: Logger): Promise<{ demo: FakeOpenAI; providers: string }> {
  // The demo upstream answers for every model the committed router may pick, so routing is real end to end.
  const router = await loadRouter(loadScoringConfig(env).MOMA_ARTIFACT_DIR);
  const models = router.models.map((m) => m.id);
  // Loaded only when needed: the demo upstream lives in the testkit, which production images need not ship.
  const { startFakeOpenAI } = await import('@moma/testkit');
  const demo = await startFakeOpenAI({ host: '127.0.0.1', record: false, models });
  log.warn(
    { demoProvider: demo.url, models: models.length },
    'DEMO PROVIDER: no LLM provider is configured, so answers come from a local fake OpenAI-compatible server that ' +
      'echoes the question. Configure real providers with MOMA_PROVIDERS=\'[{"name":"openai","baseUrl":"https://api.openai.com/v1",' +
      '"apiKeyEnv":"OPENAI_API_KEY","models":["*"]}]\' (or MOMA_PROVIDERS_FILE, or OPENAI_API_KEY / OPENAI_BASE_URL).',
  );
  // The artifact's prices, so the demo's usage shows what the same answers would cost from real providers.
  const prices = Object.fromEntries(router.models.map((m) => [m.id, { input: m.inputPricePerMTok, output: m.outputPricePerMTok }]));
  return { demo, providers: JSON.stringify([{ name: 'demo', baseUrl: demo.url, models: ['*'], prices }]) };
}

export interface EmbeddedOptions {
  /** Port of the process's /healthz, /readyz and /metrics (0 = none). */
  healthPort?: number;
  healthHost?: string;
}

export async function startEmbedded(baseEnv: Env, withDemo: boolean, opts: EmbeddedOptions = {}): Promise<Embedded> {
  const log = createLogger('launcher');
  // One registry for the five services of this process, labelled service="embedded"; each family says which stage
  // recorded it (moma_gateway_*, moma_upstream_*, the endpoint label of moma_requests_total).
  const registry = metricsRegistry('embedded');
  // One bus and one store for all five: the in-memory equivalents of NATS and Redis. Stage calls are timed.
  const bus = new MemoryBus({ logger: log, metrics: requestMetrics(registry) });
  const store = new MemoryStore();
  const env: Env = { ...baseEnv, NATS_URL: undefined, REDIS_URL: undefined, HEALTH_PORT: baseEnv.HEALTH_PORT ?? '0' };
  const handles: ServiceHandle[] = [];
  const buses: MemoryBus[] = [];
  let demo: FakeOpenAI | undefined;
  let health: HealthServer | undefined;

  const stop = async () => {
    await health?.close();
    // Reverse start order: the gateway stops taking requests first, the executor finishes last.
    for (const h of handles.reverse()) await h.stop().catch((err: unknown) => log.error({ err }, 'stop failed'));
    for (const b of buses) await b.close();
    await bus.close();
    await store.close();
    await demo?.close();
  };

  try {
    if (withDemo) {
      const started = await startDemoProvider(env, log);
      demo = started.demo;
      env.MOMA_PROVIDERS = started.providers;
    }
    // Each service gets its own connection to the one in-memory "server", as it would its own NATS connection.
    const ctx = (name: string) => {
      const own = bus.connect();
      buses.push(own);
      return createServiceContext(name, env, { bus: own, store });
    };

    const executor = await startExecutor(await ctx('executor'), { ...loadExecutorConfig(env) });
    handles.push(executor);
    handles.push(await startScoring(await ctx('scoring'), loadScoringConfig(env)));
    handles.push(await startIntent(await ctx('intent'), loadIntentConfig(env)));
    handles.push(await startOrchestrator(await ctx('orchestrator'), loadOrchestratorConfig(env)));
    const gateway = await startGateway(await ctx('gateway'), {
      ...loadGatewayConfig(env),
      EXECUTOR_ADDR: `127.0.0.1:${executor.port}`,
    });
    handles.push(gateway);
    if (opts.healthPort) {
      health = await startHealthServer(opts.healthPort, async () => {
        const r = await gateway.health();
        return { ok: r.ok, details: { checks: r.checks } };
      }, registry, opts.healthHost ?? '127.0.0.1');
      log.info({ healthPort: health.port }, 'health and metrics listening (/healthz, /readyz, /metrics)');
    }
    return { gateway, health, demo, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
