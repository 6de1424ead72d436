// The only reader of process.env: parse once with zod, freeze, and fail at boot with the variable to set.
import { z } from 'zod';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly variables: string[];
  constructor(message: string, variables: string[]) {
    super(message);
    this.variables = variables;
  }
}

/** Empty strings count as unset, so `FOO= node ...` falls back to the default instead of failing. */
function normalise(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/**
 * Parses the environment with `schema` (an object schema keyed by variable name) and returns a frozen result.
 * Throws ConfigError naming every variable that is missing or malformed.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env = process.env): Readonly<z.output<S>> {
  const result = schema.safeParse(normalise(env));
  if (!result.success) {
    const variables = [...new Set(result.error.issues.map((i) => String(i.path[0] ?? '(env)')))];
    const lines = result.error.issues.map((i) => {
      const name = String(i.path[0] ?? '(env)');
      const got = env[name];
      const shown = got === undefined || got === '' ? 'unset' : `got ${JSON.stringify(got.length > 60 ? `${got.slice(0, 60)}…` : got)}`;
      return `  ${name}: ${i.message} (${shown}) — set ${name} to fix`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`, variables);
  }
  return deepFreeze(result.data) as Readonly<z.output<S>>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// --- reusable field parsers ------------------------------------------------------------------------------

/** Positive integer from a string, e.g. a timeout in ms. */
export const envInt = (def: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
  z.coerce.number().int(`must be an integer`).min(min).max(max).default(def);

/** Boolean from "true"/"false"/"1"/"0"/"yes"/"no". */
export const envBool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Optional URL with one of the given schemes. */
export const envUrl = (schemes: string[]) =>
  z
    .string()
    .refine((v) => {
      try {
        return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    }, `must be a URL with scheme ${schemes.join(' or ')}`)
    .optional();

/** Port number. */
export const envPort = (def: number) => envInt(def, { min: 0, max: 65535 });

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * Variables every service reads. Services extend it: `commonConfigSchema.extend({ GATEWAY_HTTP_PORT: envPort(8080) })`.
 * NATS_URL / REDIS_URL unset → in-memory bus/store (embedded single-process mode).
 */
export const commonConfigSchema = z.object({
  /** NATS server(s), e.g. nats://nats:4222 (comma-separated for a cluster); unset with REDIS_URL unset = embedded in-memory bus. */
  NATS_URL: z.string().optional(),
  /** Redis for sessions, the registry, limits and breakers (redis:// or rediss://); unset = in-memory store. */
  REDIS_URL: envUrl(['redis', 'rediss']),
  /** Key prefix in Redis, so several deployments (or test runs) can share one Redis. */
  REDIS_KEY_PREFIX: z.string().default('moma:'),
  /**
   * Replicas of the JetStream events stream (MOMA_EVENTS) when a service creates it: 1 on a single server, 3 on a
   * 3-node cluster (deploy/k8s/components/nats-cluster) so usage and feedback events survive losing a node.
   */
  NATS_EVENTS_REPLICAS: envInt(1, { min: 1, max: 5 }),
  /** Deadline of one stage call over NATS (ms); the callee sees it and gives up too. */
  NATS_REQUEST_TIMEOUT_MS: envInt(2000, { min: 1 }),
  /** How long an idle session is kept in Redis. */
  SESSION_TTL_SECONDS: envInt(86_400, { min: 1 }),
  /** pino log level. */
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** Health/metrics HTTP port for services without their own HTTP server; 0 = disabled. */
  HEALTH_PORT: envPort(0),
  /**
   * Address the health/metrics port binds to: loopback by default, so it is not exposed by accident; set 0.0.0.0
   * where probes or a Prometheus reach it from outside the host (the Kubernetes and compose files do).
   */
  HEALTH_HOST: z.string().default('127.0.0.1'),
  /** service.name of the spans (default: the service's own name). */
  OTEL_SERVICE_NAME: z.string().optional(),
  /** OTLP/HTTP base URL (spans go to <url>/v1/traces); unset = no trace export. */
  OTEL_EXPORTER_OTLP_ENDPOINT: envUrl(['http', 'https']),
  /** Full OTLP/HTTP traces URL; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: envUrl(['http', 'https']),
  /** Standard `key=value,key2=value2` resource attributes. */
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  /** true = no tracing at all. */
  OTEL_SDK_DISABLED: envBool(false),
  /** Batch span processor flush interval (ms); the OTel default of 5000 makes traces slow to appear. */
  OTEL_BSP_SCHEDULE_DELAY: envInt(1000, { min: 1 }),
  /** Share of root traces sampled, in [0, 1] (parent-based: a sampled caller is always followed). */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
});

export type CommonConfig = z.output<typeof commonConfigSchema>;

export function loadCommonConfig(env: Env = process.env): Readonly<CommonConfig> {
  return loadConfig(commonConfigSchema, env);
}

/** "gateway" → "GATEWAY_HEALTH_PORT": the variable that moves one service's health port alone. */
export const healthPortVariable = (service: string): string => `${service.toUpperCase()}_HEALTH_PORT`;

/**
 * The service's health/metrics port field, `<SERVICE>_HEALTH_PORT` (optional; read through `withServiceHealthPort`).
 * One variable per service, so the launcher, compose or a shell can move each port without moving the others.
 */
export const serviceHealthPort = (service: string, def: number) => ({
  [healthPortVariable(service)]: envPort(def).describe(
    `Port of ${service}'s /healthz, /readyz and /metrics (Prometheus), default ${def}; HEALTH_PORT is read when this is unset (one service run alone); 0 = off`,
  ),
});

/** `env` with HEALTH_PORT taken from `<SERVICE>_HEALTH_PORT` when that is set (it wins over HEALTH_PORT). */
export function withServiceHealthPort(env: Env, service: string): Env {
  const own = env[healthPortVariable(service)];
  if (own !== undefined && own !== '') return { ...env, HEALTH_PORT: own };
  if (env.HEALTH_PORT !== undefined && env.HEALTH_PORT !== '') return { ...env, [healthPortVariable(service)]: env.HEALTH_PORT };
  return env;
}
