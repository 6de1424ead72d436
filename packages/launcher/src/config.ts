// The launcher's only reader of process.env: which mode to run in and whether a demo provider is needed.
import { z } from 'zod';
import { loadConfig, type Env } from '@moma/platform';

export const launcherConfigSchema = z.object({
  /** With REDIS_URL: distributed mode (one process per service on them); otherwise embedded. */
  NATS_URL: z.string().optional(),
  /** See NATS_URL. */
  REDIS_URL: z.string().optional(),
  /** Passed to the executor; with none of MOMA_PROVIDERS, MOMA_PROVIDERS_FILE, OPENAI_API_KEY, OPENAI_BASE_URL, embedded mode starts a labelled demo provider. */
  MOMA_PROVIDERS: z.string().optional(),
  /** See MOMA_PROVIDERS. */
  MOMA_PROVIDERS_FILE: z.string().optional(),
  /** The key of the default provider (OpenAI, or OPENAI_BASE_URL). */
  OPENAI_API_KEY: z.string().optional(),
  /** The default provider's base URL when no MOMA_PROVIDERS is given. */
  OPENAI_BASE_URL: z.string().optional(),
  /** Where the launcher looks for the gateway (and prints its URL). */
  GATEWAY_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Printed gRPC address. */
  GATEWAY_GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50051),
  /** Embedded mode: port of the process's /healthz, /readyz and /metrics (Prometheus); 0 = none. */
  MOMA_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(9100),
  /** Embedded mode: the address that port binds to (loopback unless a Prometheus scrapes it from elsewhere). */
  MOMA_HEALTH_HOST: z.string().default('127.0.0.1'),
  /** How long the distributed mode waits for the gateway's /healthz before giving up. */
  MOMA_BOOT_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
});

export type LauncherConfig = Readonly<z.output<typeof launcherConfigSchema>> & {
  mode: 'distributed' | 'embedded';
  /** No provider configured at all: embedded mode starts the demo upstream. */
  needsDemoProvider: boolean;
  /** A copy of the environment to derive each service's config from (and to hand to child processes). */
  env: Env;
};

export function loadLauncherConfig(env: Env = process.env): LauncherConfig {
  const c = loadConfig(launcherConfigSchema, env);
  const distributed = Boolean(c.NATS_URL && c.REDIS_URL);
  return {
    ...c,
    mode: distributed ? 'distributed' : 'embedded',
    needsDemoProvider: !c.MOMA_PROVIDERS && !c.MOMA_PROVIDERS_FILE && !c.OPENAI_API_KEY && !c.OPENAI_BASE_URL,
    env: { ...env },
  };
}
