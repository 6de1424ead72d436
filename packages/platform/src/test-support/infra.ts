// Where integration tests find NATS and Redis: NATS_URL / REDIS_URL when set, else the local defaults when they
// answer, else a testcontainers container when Docker works, else a skip reason that names what is missing
// (and under CI=true, an error: CI must not silently skip integration tests).
//
//   const infra = await testInfra();
//   describe.skipIf(!infra.ok)(`bus - nats${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => { ... });
import { connect as netConnect } from 'node:net';

export type Located = { ok: true; url: string; source: 'env' | 'local' | 'container' } | { ok: false; reason: string };

export interface TestInfra {
  ok: boolean;
  natsUrl: string;
  redisUrl: string;
  /** Why the suite is skipped (empty when ok). */
  reason: string;
}

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Whether something accepts TCP connections at the URL's host:port within `timeoutMs`. */
export function reachable(url: string, defaultPort: number, timeoutMs = 500): Promise<boolean> {
  let host: string;
  let port: number;
  try {
    const first = url.split(',')[0]!.trim();
    const u = new URL(first.includes('://') ? first : `tcp://${first}`);
    host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    port = Number(u.port) || defaultPort;
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

interface Spec {
  what: string;
  envVar: string;
  defaultUrl: string;
  defaultPort: number;
  image: string;
  command: string[];
  scheme: string;
}

const NATS: Spec = {
  what: 'NATS',
  envVar: 'NATS_URL',
  defaultUrl: DEFAULT_NATS_URL,
  defaultPort: 4222,
  image: 'nats:2.11-alpine',
  command: ['-js'],
  scheme: 'nats',
};
const REDIS: Spec = {
  what: 'Redis',
  envVar: 'REDIS_URL',
  defaultUrl: DEFAULT_REDIS_URL,
  defaultPort: 6379,
  image: 'redis:7-alpine',
  command: [],
  scheme: 'redis',
};

async function locate(spec: Spec, env: NodeJS.ProcessEnv): Promise<Located> {
  const fromEnv = env[spec.envVar];
  if (fromEnv) {
    if (await reachable(fromEnv, spec.defaultPort)) return { ok: true, url: fromEnv, source: 'env' };
    return { ok: false, reason: `${spec.what} not reachable at ${spec.envVar}=${fromEnv}` };
  }
  if (await reachable(spec.defaultUrl, spec.defaultPort)) return { ok: true, url: spec.defaultUrl, source: 'local' };
  const container = await startContainer(spec);
  if (container.ok) return container;
  return {
    ok: false,
    reason: `${spec.what} not found: ${spec.envVar} is unset, nothing listens on ${spec.defaultUrl}, and ${container.reason}`,
  };
}

// Containers live for the whole test process; testcontainers' reaper removes them when it exits.
async function startContainer(spec: Spec): Promise<Located> {
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    let c = new GenericContainer(spec.image).withExposedPorts(spec.defaultPort).withWaitStrategy(Wait.forListeningPorts());
    if (spec.command.length > 0) c = c.withCommand(spec.command);
    const started = await c.start();
    return {
      ok: true,
      url: `${spec.scheme}://${started.getHost()}:${started.getMappedPort(spec.defaultPort)}`,
      source: 'container',
    };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? 'unknown error';
    return { ok: false, reason: `testcontainers could not start ${spec.image} (${msg})` };
  }
}

// Keyed by the variable's value, so one process never starts two containers for the same thing.
const cache = new Map<string, Promise<Located>>();

function located(spec: Spec, env: NodeJS.ProcessEnv): Promise<Located> {
  const key = `${spec.envVar}=${env[spec.envVar] ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = locate(spec, env);
    cache.set(key, p);
  }
  return p;
}

function isCi(env: NodeJS.ProcessEnv): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/** NATS for tests, or a skip reason. Under CI=true a missing NATS throws. */
export async function natsUrlForTests(env: NodeJS.ProcessEnv = process.env): Promise<Located> {
  const r = await located(NATS, env);
  if (!r.ok && isCi(env)) throw new Error(`CI=true and ${r.reason}`);
  return r;
}

/** Redis for tests, or a skip reason. Under CI=true a missing Redis throws. */
export async function redisUrlForTests(env: NodeJS.ProcessEnv = process.env): Promise<Located> {
  const r = await located(REDIS, env);
  if (!r.ok && isCi(env)) throw new Error(`CI=true and ${r.reason}`);
  return r;
}

/**
 * NATS and/or Redis for an integration suite. When something is missing, `ok` is false, `reason` says what,
 * and the reason is printed once so a skipped suite is never silent.
 */
export async function testInfra(
  needs: { nats?: boolean; redis?: boolean } = { nats: true, redis: true },
  env: NodeJS.ProcessEnv = process.env,
): Promise<TestInfra> {
  const [nats, redis] = await Promise.all([
    needs.nats ? natsUrlForTests(env) : undefined,
    needs.redis ? redisUrlForTests(env) : undefined,
  ]);
  const reasons = [nats, redis].flatMap((r) => (r && !r.ok ? [r.reason] : []));
  const infra: TestInfra = {
    ok: reasons.length === 0,
    natsUrl: nats?.ok ? nats.url : '',
    redisUrl: redis?.ok ? redis.url : '',
    reason: reasons.join('; '),
  };
  if (!infra.ok) console.warn(`[test infra] skipping integration tests: ${infra.reason}`);
  return infra;
}

/** A unique token for subjects, key prefixes and queue names, so parallel test files never collide. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
