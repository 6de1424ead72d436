// Distributed mode: each service its own process (`node services/<name>/src/main.ts`) on the configured NATS and
// Redis, logs prefixed with the service name, SIGTERM forwarded, nothing restarted. If a service dies the others are
// stopped and the launcher exits non-zero, so a broken boot never looks like a running system.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env } from '@moma/platform';

export const SERVICES = ['executor', 'scoring', 'intent', 'orchestrator', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The workspace root (packages/launcher/src/ → ../../..): children run from there, as `node services/<name>/src/main.ts`. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Each service's entry point, absolute so it does not depend on the child's working directory. */
const entryPoint = (name: ServiceName) => join(ROOT, 'services', name, 'src', 'main.ts');
/**
 * Idle memory (each service must idle under 150 MB): a young generation capped at 2 × 8 MB instead of 2 × 16 MB
 * (no measurable CPU cost), and Node's compile cache, which keeps the type-stripped sources so a process does not
 * instantiate the TypeScript stripper again (15-25 MB each). Both apply unless the caller's env sets its own.
 */
const DEFAULT_NODE_ARGS = ['--max-semi-space-size=8'];
const COMPILE_CACHE = join(ROOT, 'node_modules', '.cache', 'moma-compile');
const COLORS = [36, 33, 35, 32, 34];

export interface Fleet {
  children: Map<ServiceName, ChildProcess>;
  /** Resolves with the exit code once every child has exited. */
  exited: Promise<number>;
  stop(signal?: NodeJS.Signals): void;
}

export interface FleetOptions {
  /** Per-service environment overrides (ports, OTEL_SERVICE_NAME...). */
  envFor?: (name: ServiceName) => Env;
  /** Where each output line goes; default: stdout with a "<service> |" prefix. */
  onLine?: (name: ServiceName, line: string) => void;
  /** Which services to start; default all five. */
  services?: readonly ServiceName[];
  /** Extra node flags, e.g. ["--cpu-prof"]. */
  nodeArgs?: string[];
}

/** Spawns the services with `env`; `onDeath` is told when one exits on its own. */
export function spawnFleet(
  env: Env,
  onDeath: (name: ServiceName, code: number | null, signal: string | null) => void,
  opts: FleetOptions = {},
): Fleet {
  const children = new Map<ServiceName, ChildProcess>();
  let stopping = false;
  const exits: Array<Promise<number>> = [];
  const color = process.stdout.isTTY;

  (opts.services ?? SERVICES).forEach((name, i) => {
    const child = spawn(process.execPath, [...DEFAULT_NODE_ARGS, ...(opts.nodeArgs ?? []), entryPoint(name)], {
      cwd: ROOT,
      env: { NODE_COMPILE_CACHE: COMPILE_CACHE, ...env, OTEL_SERVICE_NAME: name, ...opts.envFor?.(name) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C (or `timeout`) signals the launcher's group, and the launcher forwards exactly
      // one SIGTERM; a second signal would make a service skip its graceful drain.
      detached: true,
    });
    const prefix = color ? `\x1b[${COLORS[i % COLORS.length]}m${name.padEnd(12)}\x1b[0m| ` : `${name.padEnd(12)}| `;
    const onLine = opts.onLine ?? ((_: ServiceName, line: string) => process.stdout.write(`${prefix}${line}\n`));
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => onLine(name, line));
    }
    exits.push(
      new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          children.delete(name);
          if (!stopping) onDeath(name, code, signal);
          resolve(code ?? (signal ? 1 : 0));
        });
      }),
    );
    children.set(name, child);
  });

  // If the launcher itself goes away, its services go with it.
  process.once('exit', () => {
    for (const child of children.values()) child.kill('SIGKILL');
  });

  return {
    children,
    exited: Promise.all(exits).then((codes) => codes.reduce((a, c) => a || c, 0)),
    stop(signal = 'SIGTERM') {
      stopping = true;
      for (const child of children.values()) child.kill(signal);
    },
  };
}

/** Each service's default health port (its `<SERVICE>_HEALTH_PORT` moves it). */
export const DEFAULT_HEALTH_PORTS: Record<ServiceName, number> = { gateway: 9100, intent: 9101, orchestrator: 9102, scoring: 9103, executor: 9104 };

/** The health port each service will listen on under `env` (0 = that service has none). */
export function healthPorts(env: Env): Record<ServiceName, number> {
  const out = { ...DEFAULT_HEALTH_PORTS };
  for (const name of SERVICES) {
    const v = env[`${name.toUpperCase()}_HEALTH_PORT`];
    if (v !== undefined && v !== '' && Number.isInteger(Number(v))) out[name] = Number(v);
  }
  return out;
}

export interface HealthState {
  ok: boolean;
  /** What the last probe saw: the /healthz body, or why there was none (connection refused, timeout). */
  detail: string;
}

/** One probe of a service's /healthz. */
export async function probeHealth(port: number): Promise<HealthState> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.text()).slice(0, 500);
    return { ok: res.ok, detail: `HTTP ${res.status} ${body}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { ok: false, detail: e.cause?.code === 'ECONNREFUSED' ? `nothing listens on port ${port} yet` : e.message };
  }
}

/**
 * Polls every service's /healthz until all answer 200, `timeoutMs` passes or `gaveUp()`; resolves with the last state
 * of each (services without a health port are taken as healthy).
 */
export async function waitFleetHealthy(ports: Record<ServiceName, number>, timeoutMs: number, gaveUp: () => boolean): Promise<Record<ServiceName, HealthState>> {
  const deadline = Date.now() + timeoutMs;
  const state = Object.fromEntries(SERVICES.map((n) => [n, { ok: ports[n] === 0, detail: ports[n] === 0 ? 'no health port' : 'not probed yet' }])) as Record<ServiceName, HealthState>;
  while (Date.now() < deadline && !gaveUp()) {
    await Promise.all(SERVICES.filter((n) => !state[n].ok).map(async (n) => (state[n] = await probeHealth(ports[n]))));
    if (SERVICES.every((n) => state[n].ok)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return state;
}

/** Polls the gateway's /healthz until it answers 200 or `timeoutMs` passes. */
export async function waitHealthy(url: string, timeoutMs: number, gaveUp: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gaveUp()) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}
