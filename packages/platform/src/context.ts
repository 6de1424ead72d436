// Builds what every service receives: adapters connected per the environment (NATS + Redis when NATS_URL /
// REDIS_URL are set, memory otherwise), a logger, and the parsed common config.
import type { Bus, Logger, ServiceContext, Store } from './contracts.ts';
import { loadCommonConfig, type CommonConfig, type Env } from './config.ts';
import { createLogger } from './logger.ts';
import { NatsBus, connectNatsBus } from './bus-nats.ts';
import { MemoryBus } from './bus-memory.ts';
import { RedisStore, connectRedisStore } from './store-redis.ts';
import { MemoryStore } from './store-memory.ts';
import { metricsRegistry, requestMetrics, type RequestMetrics } from './metrics.ts';
import type { Registry } from 'prom-client';

export interface PlatformContext extends ServiceContext {
  config: Readonly<CommonConfig>;
  /** Prometheus registry of this process (serve it with startHealthServer). */
  registry: Registry;
  /** Request metrics; the bus already records every handled request. */
  metrics: RequestMetrics;
}

export interface CreateServiceContextOptions {
  /** Use these instead of building from the environment (embedded mode shares one memory bus/store). */
  bus?: Bus;
  store?: Store;
  logger?: Logger;
  /** Version reported to NATS service discovery. */
  version?: string;
  /** Serve through @nats-io/services (default true). */
  useServices?: boolean;
}

// Which adapters a context built here owns (shared ones passed in are closed by whoever made them).
const owned = new WeakMap<ServiceContext, { bus: boolean; store: boolean }>();

/**
 * Builds a service's context from `env`. Fails at boot with a clear error when the config is invalid or
 * NATS/Redis are configured but unreachable (UNAVAILABLE, naming the URL and the variable).
 */
export async function createServiceContext(
  name: string,
  env: Env = process.env,
  opts: CreateServiceContextOptions = {},
): Promise<PlatformContext> {
  const config = loadCommonConfig(env);
  const logger = opts.logger ?? createLogger(name, { level: config.LOG_LEVEL });
  const registry = metricsRegistry(name);
  const metrics = requestMetrics(registry);
  const bus =
    opts.bus ??
    (config.NATS_URL
      ? await connectNatsBus({
          url: config.NATS_URL,
          name,
          timeoutMs: config.NATS_REQUEST_TIMEOUT_MS,
          eventsReplicas: config.NATS_EVENTS_REPLICAS,
          logger,
          metrics,
          ...(opts.version ? { version: opts.version } : {}),
          ...(opts.useServices === undefined ? {} : { useServices: opts.useServices }),
        })
      : new MemoryBus({ timeoutMs: config.NATS_REQUEST_TIMEOUT_MS, logger, metrics }));
  let store: Store;
  try {
    store =
      opts.store ??
      (config.REDIS_URL
        ? await connectRedisStore({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger })
        : new MemoryStore());
  } catch (err) {
    if (!opts.bus) await bus.close();
    throw err;
  }
  logger.info(
    { bus: config.NATS_URL ? 'nats' : 'memory', store: config.REDIS_URL ? 'redis' : 'memory' },
    'service context ready',
  );
  const ctx: PlatformContext = { name, bus, store, logger, config, registry, metrics };
  owned.set(ctx, { bus: !opts.bus, store: !opts.store });
  return ctx;
}

/** Closes what the context owns: drains the bus (in-flight handlers reply), then quits the store. */
/** Adapters passed in to `createServiceContext` are left open for their owner to close. */
export async function closeServiceContext(ctx: ServiceContext): Promise<void> {
  const own = owned.get(ctx) ?? { bus: true, store: true };
  try {
    if (own.bus) await ctx.bus.close();
    if (own.store) await ctx.store.close();
  } catch (err) {
    ctx.logger.warn({ err }, 'error while closing service context');
  }
}

/** Health of the context's connections, for `startHealthServer(port, () => checkContextHealth(ctx))`. */
export async function checkContextHealth(ctx: ServiceContext): Promise<{ ok: boolean; details: Record<string, unknown> }> {
  const bus = ctx.bus instanceof NatsBus ? ctx.bus.isHealthy() : true;
  const store = ctx.store instanceof RedisStore ? ctx.store.isHealthy() : true;
  return { ok: bus && store, details: { bus, store } };
}
