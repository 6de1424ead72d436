// The one shape every service's main.ts runs: config → telemetry → context → service → health/metrics server, and
// on SIGTERM/SIGINT the reverse: stop taking work (readiness fails), stop the service (in-flight requests finish),
// close the health server, close the context (drain NATS, quit Redis), flush spans. A boot failure is logged with
// the error and exits 1, so a broken deployment never looks like a running one.
import type { ServiceHandle } from './contracts.ts';
import type { Env } from './config.ts';
import { closeServiceContext, createServiceContext, type PlatformContext } from './context.ts';
import { startHealthServer, type HealthCheck, type HealthServer } from './health.ts';
import { createLogger } from './logger.ts';
import { configureShutdown, onShutdown, shutdownNow } from './shutdown.ts';
import { startTelemetry, type Telemetry } from './telemetry.ts';

type CheckResult = Awaited<ReturnType<HealthCheck>>;

export interface RunServiceOptions<C, H extends ServiceHandle> {
  /** Service name: logger, NATS queue group, service.name, the `service` label on metrics. */
  name: string;
  /** The loaded config, or its loader (run inside the boot guard, so a config error is logged and exits 1). */
  config: C | (() => C);
  /** Port of the /healthz, /readyz and /metrics server (0 = a free port). */
  healthPort: number | ((config: NoInfer<C>) => number);
  /** Host the health server binds (default 0.0.0.0). */
  healthHost?: string;
  /** Environment the context and telemetry are built from (default process.env). */
  env?: Env;
  /**
   * The service keeps no shared state (only the orchestrator owns Redis keys): its context opens no Redis
   * connection even when REDIS_URL is set for the deployment, and it gets an in-memory store it does not use.
   */
  stateless?: boolean;
  /** Starts the service on the context; the handle's stop() stops taking work and finishes what is in flight. */
  start(ctx: PlatformContext, config: NoInfer<C>): Promise<H>;
  /** Health of the running service, for /healthz and /readyz (503 from the first shutdown step on). */
  health(ctx: PlatformContext, handle: NoInfer<H>, config: NoInfer<C>): ReturnType<HealthCheck>;
  /** Extra fields on the "<name> ready" log line. */
  describe?(handle: NoInfer<H>): Record<string, unknown>;
  /** Overall shutdown deadline in ms (default 10 s, see configureShutdown). */
  shutdownDeadlineMs?: number | ((config: NoInfer<C>) => number);
  /** Called on a boot failure after it is logged (default process.exit); tests replace it. */
  exit?(code: number): void;
}

export interface RunningService<H extends ServiceHandle> {
  ctx: PlatformContext;
  handle: H;
  health: HealthServer;
  telemetry: Telemetry;
  /** Runs the shutdown steps (what SIGTERM does, without exiting). */
  stop(): Promise<void>;
}

/**
 * Boots a service as its own process. Resolves with the running service, or undefined after a boot failure (which
 * is logged and then `exit(1)`).
 */
export async function runService<C, H extends ServiceHandle>(opts: RunServiceOptions<C, H>): Promise<RunningService<H> | undefined> {
  const env = opts.stateless ? { ...(opts.env ?? process.env), REDIS_URL: undefined } : (opts.env ?? process.env);
  try {
    const config = typeof opts.config === 'function' ? (opts.config as () => C)() : opts.config;
    const telemetry = startTelemetry(opts.name, { env });
    onShutdown(() => telemetry.shutdown(), { last: true, name: 'telemetry' });
    if (opts.shutdownDeadlineMs !== undefined) {
      configureShutdown({ deadlineMs: typeof opts.shutdownDeadlineMs === 'function' ? opts.shutdownDeadlineMs(config) : opts.shutdownDeadlineMs });
    }
    const ctx = await createServiceContext(opts.name, env);
    let handle: H;
    try {
      handle = await opts.start(ctx, config);
    } catch (err) {
      await closeServiceContext(ctx);
      throw err;
    }
    let stopping = false;
    const check = async (): Promise<CheckResult> => (stopping ? { ok: false, details: { stopping: true } } : opts.health(ctx, handle, config));
    const port = typeof opts.healthPort === 'function' ? opts.healthPort(config) : opts.healthPort;
    let health: HealthServer;
    try {
      health = await startHealthServer(port, check, ctx.registry, opts.healthHost ?? (config as { HEALTH_HOST?: string }).HEALTH_HOST ?? '127.0.0.1');
    } catch (err) {
      await handle.stop().catch(() => undefined);
      await closeServiceContext(ctx);
      throw new Error(`health server on port ${port}: ${(err as Error).message}`, { cause: err });
    }
    onShutdown(() => void (stopping = true), { name: 'stop taking work' });
    onShutdown(() => handle.stop(), { name: opts.name });
    onShutdown(() => health.close(), { name: 'health server' });
    onShutdown(() => closeServiceContext(ctx), { name: 'context' });
    ctx.logger.info({ healthPort: health.port, ...opts.describe?.(handle) }, `${opts.name} ready`);
    return { ctx, handle, health, telemetry, stop: shutdownNow };
  } catch (err) {
    createLogger(opts.name, { level: env.LOG_LEVEL === 'silent' ? 'silent' : 'error' }).error({ err }, `${opts.name} failed to start: ${(err as Error)?.message ?? String(err)}`);
    (opts.exit ?? ((code: number) => process.exit(code)))(1);
    return undefined;
  }
}
