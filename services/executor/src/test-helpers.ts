// Shared by the executor's tests: a running executor on a free port and a client that collects a whole stream.
import { createServer } from 'node:net';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createLogger, MemoryBus, MemoryStore, type Bus, type ServiceContext, type ServiceHandle, type Store } from '@moma/platform';
import { ExecutorClient, ExecuteRequest, type ExecuteResponse, type Target, type Usage } from '@moma/proto';
import { startExecutor } from './app.ts';
import type { Breakers } from './breakers.ts';
import { parseProviders, type BreakerConfig, type ExecutorConfig, type ProviderConfigInput } from './config.ts';

export interface Running {
  handle: ServiceHandle & { port: number; breakers: Breakers };
  client: ExecutorClient;
  ctx: ServiceContext;
  close(): Promise<void>;
}

export interface RunOptions {
  bus?: Bus;
  /** The context's store (breaker state); default a fresh MemoryStore. Not closed by close(). */
  store?: Store;
  agents?: Record<string, string>;
  firstTokenTimeoutMs?: number;
  idleTimeoutMs?: number;
  totalTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxAttempts?: number;
  breaker?: Partial<BreakerConfig>;
}

export async function runExecutor(providers: ProviderConfigInput[], opts: RunOptions = {}): Promise<Running> {
  const ctx: ServiceContext = {
    name: 'executor',
    bus: opts.bus ?? new MemoryBus(),
    store: opts.store ?? new MemoryStore(),
    logger: createLogger('executor', { level: 'silent' }),
  };
  const config: ExecutorConfig = {
    host: '127.0.0.1',
    port: 0,
    providers: parseProviders(providers, {}),
    agents: opts.agents ?? {},
    firstTokenTimeoutMs: opts.firstTokenTimeoutMs ?? 5_000,
    idleTimeoutMs: opts.idleTimeoutMs ?? 5_000,
    ...(opts.totalTimeoutMs === undefined ? {} : { totalTimeoutMs: opts.totalTimeoutMs }),
    ...(opts.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: opts.requestTimeoutMs }),
    ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }),
    breaker: { failures: 5, cooldownMs: 30_000, cacheMs: 1_000, ...opts.breaker },
    agentCardTtlMs: 60_000,
  };
  const handle = await startExecutor(ctx, config);
  const client = new ExecutorClient(`127.0.0.1:${handle.port}`, credentials.createInsecure());
  return {
    handle,
    client,
    ctx,
    async close() {
      client.close();
      await handle.stop();
      if (!opts.bus) await ctx.bus.close();
    },
  };
}

export interface Collected {
  deltas: string[];
  text: string;
  /** The targets named by `fallback` events, in order. */
  fallbacks: Target[];
  usage: Usage | undefined;
  events: ExecuteResponse[];
  error: ServiceError | undefined;
}

/** Runs one Execute and gathers everything it streamed, plus the final status when it is an error. */
export function execute(client: ExecutorClient, req: Parameters<typeof ExecuteRequest.fromPartial>[0], metadata = new Metadata()): Promise<Collected> {
  const full = ExecuteRequest.fromPartial(req);
  return new Promise((resolve) => {
    const out: Collected = { deltas: [], text: '', fallbacks: [], usage: undefined, events: [], error: undefined };
    const call = client.execute(full, metadata);
    call.on('data', (ev: ExecuteResponse) => {
      out.events.push(ev);
      if (ev.delta !== undefined) out.deltas.push(ev.delta);
      if (ev.fallback !== undefined) out.fallbacks.push(ev.fallback);
      if (ev.usage) out.usage = ev.usage;
    });
    call.on('error', (err: ServiceError) => {
      out.error = err;
    });
    call.on('close', () => {
      out.text = out.deltas.join('');
      resolve(out);
    });
  });
}

/** A decision choosing `targets[0]` and ranking `targets` in order (build them with llmTarget / agentTarget). */
export function decision(targets: Target[], extra: { sessionId?: string } = {}) {
  return {
    target: targets[0],
    ranked: targets.map((target) => ({ target, predictedQuality: 0.5, predictedCostUsd: 0, utility: 0 })),
    sessionId: extra.sessionId ?? '',
  };
}

/** A localhost port with nothing listening on it (connections are refused). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
