// Starts the distributed system for end-to-end tests and the load benchmark: every service its own process
// (`node services/<name>/src/main.ts`) on real NATS and Redis, on free ports, with a unique Redis key prefix.
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { spawnFleet, SERVICES, type Fleet, type ServiceName } from '@moma/launcher';
import { freePort } from '@moma/platform/testing';
import { DEFAULT_ARTIFACT_DIR, loadRouter } from '@moma/scoring';

export interface SystemOptions {
  natsUrl: string;
  redisUrl: string;
  /** MOMA_PROVIDERS entries for the executor. */
  providers: unknown[];
  /** Redis key prefix, e.g. "e2e-<id>:". */
  keyPrefix: string;
  /** OTLP/HTTP endpoint for every service's spans (unset = no export). */
  otlpUrl?: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Echo service output to stderr as it arrives (default: kept, printed only when boot fails). */
  echo?: boolean;
  nodeArgs?: string[];
  bootTimeoutMs?: number;
  /** More executor processes beside the first; the gateway's EXECUTOR_ADDR lists them all. */
  extraExecutors?: number;
}

export interface System {
  httpUrl: string;
  grpcAddr: string;
  executorAddr: string;
  /** Base URL of each service's health/metrics server (/healthz, /readyz, /metrics). */
  healthUrls: Record<ServiceName, string>;
  /** The environment every service got (for starting more instances). */
  env: Record<string, string | undefined>;
  pids: Record<ServiceName, number>;
  /** Every output line so far, "<service>| <line>". */
  logs: string[];
  /** Services that exited on their own. */
  deaths: string[];
  /** The extra executor processes (SystemOptions.extraExecutors), e.g. to kill one. */
  extraExecutors: Array<{ pid: number; kill(signal?: NodeJS.Signals): void }>;
  stop(): Promise<void>;
}

export { freePort };

export async function startSystem(opts: SystemOptions): Promise<System> {
  const [httpPort, grpcPort, executorPort, ...healthPortList] = await Promise.all(
    Array.from({ length: 3 + SERVICES.length }, freePort),
  );
  // Every service serves /healthz, /readyz and /metrics on its own HEALTH_PORT.
  const healthPorts = Object.fromEntries(SERVICES.map((name, i) => [name, healthPortList[i]!])) as Record<ServiceName, number>;
  const extraPorts = await Promise.all(Array.from({ length: opts.extraExecutors ?? 0 }, freePort));
  const env: Record<string, string | undefined> = {
    ...process.env,
    NATS_URL: opts.natsUrl,
    REDIS_URL: opts.redisUrl,
    REDIS_KEY_PREFIX: opts.keyPrefix,
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
    MOMA_PROVIDERS: JSON.stringify(opts.providers),
    MOMA_PROVIDERS_FILE: undefined,
    GATEWAY_HTTP_PORT: String(httpPort),
    GATEWAY_GRPC_PORT: String(grpcPort),
    GATEWAY_HOST: '127.0.0.1',
    EXECUTOR_GRPC_PORT: String(executorPort),
    EXECUTOR_GRPC_HOST: '127.0.0.1',
    EXECUTOR_ADDR: [executorPort, ...extraPorts].map((p) => `127.0.0.1:${p}`).join(','),
    OTEL_EXPORTER_OTLP_ENDPOINT: opts.otlpUrl,
    OTEL_SDK_DISABLED: opts.otlpUrl ? 'false' : process.env.OTEL_SDK_DISABLED,
    // Export spans quickly so a test sees a request's trace within a second or two.
    OTEL_BSP_SCHEDULE_DELAY: opts.otlpUrl ? '100' : process.env.OTEL_BSP_SCHEDULE_DELAY,
    ...opts.env,
  };
  const logs: string[] = [];
  const deaths: string[] = [];
  const fleet: Fleet = spawnFleet(
    env,
    (name, code, signal) => deaths.push(`${name} exited (code ${code}, signal ${signal})`),
    {
      envFor: (name) => ({ HEALTH_PORT: String(healthPorts[name]) }),
      onLine: (name, line) => {
        logs.push(`${name}| ${line}`);
        if (opts.echo) process.stderr.write(`${name.padEnd(12)}| ${line}\n`);
      },
      ...(opts.nodeArgs ? { nodeArgs: opts.nodeArgs } : {}),
    },
  );
  const extras: Fleet[] = extraPorts.map((port) =>
    spawnFleet(env, (name, code, signal) => deaths.push(`extra ${name} exited (code ${code}, signal ${signal})`), {
      services: ['executor'],
      envFor: () => ({ EXECUTOR_GRPC_PORT: String(port), HEALTH_PORT: '0' }),
      onLine: (name, line) => logs.push(`${name}+| ${line}`),
    }),
  );
  const pids = Object.fromEntries([...fleet.children].map(([n, c]) => [n, c.pid ?? 0])) as Record<ServiceName, number>;
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const system: System = {
    httpUrl,
    grpcAddr: `127.0.0.1:${grpcPort}`,
    executorAddr: `127.0.0.1:${executorPort}`,
    healthUrls: Object.fromEntries(SERVICES.map((name) => [name, `http://127.0.0.1:${healthPorts[name]}`])) as Record<ServiceName, string>,
    env,
    pids,
    logs,
    deaths,
    extraExecutors: extras.map((f) => {
      const child = f.children.get('executor')!;
      return { pid: child.pid ?? 0, kill: (signal: NodeJS.Signals = 'SIGKILL') => f.stop(signal) };
    }),
    async stop() {
      for (const f of [fleet, ...extras]) f.stop('SIGTERM');
      const killer = setTimeout(() => [fleet, ...extras].forEach((f) => f.stop('SIGKILL')), 10_000);
      await Promise.all([fleet, ...extras].map((f) => f.exited));
      clearTimeout(killer);
    },
  };

  const deadline = Date.now() + (opts.bootTimeoutMs ?? 45_000);
  let last = '';
  while (Date.now() < deadline && deaths.length === 0) {
    try {
      const res = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(3000) });
      last = `${res.status} ${await res.text()}`;
      if (res.ok && (await intentAnswers(httpUrl, env.MOMA_ADMIN_KEY))) return system;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await system.stop();
  throw new Error(
    `the distributed system did not become healthy (${deaths.join('; ') || `last /healthz: ${last}`}); ` +
      `service output:\n${logs.slice(-60).join('\n')}`,
  );
}

// /healthz covers scoring, orchestrator and executor; a stateless-looking route covers intent too.
async function intentAnswers(httpUrl: string, adminKey: string | undefined): Promise<boolean> {
  const res = await fetch(`${httpUrl}/v1/route`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(adminKey ? { authorization: `Bearer ${adminKey}` } : {}) },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'warm-up' }] }),
    signal: AbortSignal.timeout(3000),
  });
  return res.ok;
}

/**
 * One more gateway process for `sys`, with `natsUrl` instead of the system's (e.g. through a proxy a test can cut).
 * Resolves once it lists models, i.e. it reaches the scoring stage.
 */
export async function startExtraGateway(sys: System, natsUrl: string): Promise<{ httpUrl: string; logs: string[]; stop(): Promise<void> }> {
  const [httpPort, grpcPort] = await Promise.all([freePort(), freePort()]);
  const logs: string[] = [];
  const fleet = spawnFleet(
    { ...sys.env, NATS_URL: natsUrl, GATEWAY_HTTP_PORT: String(httpPort), GATEWAY_GRPC_PORT: String(grpcPort), HEALTH_PORT: '0' },
    (name, code) => logs.push(`${name} exited (code ${code})`),
    { services: ['gateway'], onLine: (_n, line) => logs.push(line) },
  );
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    fleet.stop('SIGTERM');
    await fleet.exited;
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const auth: Record<string, string> = sys.env.MOMA_ADMIN_KEY ? { authorization: `Bearer ${sys.env.MOMA_ADMIN_KEY}` } : {};
      if ((await fetch(`${httpUrl}/v1/models`, { headers: auth, signal: AbortSignal.timeout(2000) })).ok) return { httpUrl, logs, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`extra gateway did not start:\n${logs.join('\n')}`);
}

/** A TCP proxy a test can cut, to take a dependency away from one process only (the shared NATS must stay up). */
export async function startTcpProxy(target: string): Promise<{ url: string; cut(): Promise<void> }> {
  const { createServer: createTcpServer, connect } = await import('node:net');
  const u = new URL(target);
  const sockets = new Set<import('node:net').Socket>();
  const server = createTcpServer((client) => {
    const upstream = connect({ host: u.hostname, port: Number(u.port) });
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `${u.protocol}//127.0.0.1:${port}`,
    cut: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface PrivateNats {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * A nats-server of our own (JetStream on, random port, temporary store) when the binary is on PATH. Stage subjects
 * and queue groups are fixed names, so on a shared NATS another test run's services would join our queue groups and
 * answer our requests from their own Redis prefix; a private server keeps a run's traffic to itself. Undefined when
 * nats-server is not installed or E2E_SHARED_NATS=1 (then the shared NATS_URL is used).
 */
export async function startPrivateNats(): Promise<PrivateNats | undefined> {
  if (process.env.E2E_SHARED_NATS === '1') return undefined;
  const { spawn, spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  if (spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'moma-nats-'));
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  if (await waitForPort(port, 10_000)) return { url, pid: child.pid ?? 0, stop };
  await stop();
  return undefined;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` within `timeoutMs` (polled every 100 ms). */
export async function waitForPort(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect({ host: '127.0.0.1', port }, () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * startSystem on a NATS of its own (startPrivateNats; `opts.natsUrl`, the shared one, when there is none). Its stop()
 * stops the system, then that NATS, then deletes the system's Redis keys (as it does when the system fails to start).
 */
export async function startSystemOnPrivateNats(opts: SystemOptions): Promise<System> {
  const nats = await startPrivateNats();
  const cleanUp = async () => {
    await nats?.stop();
    await dropKeys(opts.redisUrl, opts.keyPrefix);
  };
  let sys: System;
  try {
    sys = await startSystem({ ...opts, natsUrl: nats?.url ?? opts.natsUrl });
  } catch (err) {
    await cleanUp();
    throw err;
  }
  const stopSystem = sys.stop;
  sys.stop = async () => {
    await stopSystem();
    await cleanUp();
  };
  return sys;
}

/** Resident memory of a process in MB, from /proc/<pid>/status (VmRSS); undefined off Linux. */
export async function rssMb(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb ? Math.round((Number(kb) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Deletes every Redis key a test system wrote under its prefix. */
export async function dropKeys(redisUrl: string, keyPrefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

export { SERVICES, type ServiceName };

/** USD per 1M tokens of the committed router's models (its artifact prices), as an executor provider's `prices`. */
export async function artifactPrices(): Promise<Record<string, { input: number; output: number }>> {
  const router = await loadRouter(DEFAULT_ARTIFACT_DIR);
  return Object.fromEntries(router.models.map((m) => [m.id, { input: m.inputPricePerMTok, output: m.outputPricePerMTok }]));
}
