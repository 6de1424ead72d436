// The executor's only reader of process.env. Providers come from MOMA_PROVIDERS (JSON) or MOMA_PROVIDERS_FILE;
// API keys may be given inline or named by `apiKeyEnv`, which is resolved here so nothing else reads the env.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { commonConfigSchema, ConfigError, envInt, envPort, loadConfig, type Env, serviceHealthPort, withServiceHealthPort } from '@moma/platform';

const priceSchema = z.strictObject({
  /** USD per 1M prompt tokens. */
  input: z.number().min(0),
  /** USD per 1M completion tokens. */
  output: z.number().min(0),
});

// Strict: a misspelt key ("apikey", "base_url") fails at start naming it, instead of being ignored.
export const providerSchema = z.strictObject({
  /** The provider's name (metrics, breaker keys, messages); unique. */
  name: z.string().min(1),
  /** OpenAI-compatible base URL, e.g. https://api.openai.com/v1. */
  baseUrl: z.url({ message: 'must be an absolute URL (an OpenAI-compatible base ending in /v1)' }),
  /** The key itself (prefer apiKeyEnv: a key in a file or variable of JSON is easy to leak). */
  apiKey: z.string().min(1).optional(),
  /**
   * Environment variable holding the key (used when apiKey is absent); it must be set, or the executor does not
   * start. A provider with neither (a local vLLM, a fake) is called without a key.
   */
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
  /** Models served here, matched exactly; "*" takes any model no other provider lists. */
  models: z.array(z.string().min(1)).min(1, 'list at least one model or "*"'),
  /** Our model id → the provider's model name, when they differ. */
  modelMap: z.record(z.string(), z.string()).default({}),
  /** Prices per model id, USD per 1M tokens; a missing model costs 0. */
  prices: z.record(z.string(), priceSchema).default({}),
  /** Extra HTTP headers sent to this provider. */
  headers: z.record(z.string(), z.string()).default({}),
});

export type ProviderConfigInput = z.input<typeof providerSchema>;

export interface ProviderConfig {
  name: string;
  baseUrl: string;
  apiKey: string;
  models: string[];
  modelMap: Record<string, string>;
  prices: Record<string, { input: number; output: number }>;
  headers: Record<string, string>;
}

export const executorConfigSchema = commonConfigSchema.extend({
  /** Port of the executor's gRPC server (moma.v1.Executor); the gateway dials it when its EXECUTOR_ADDR is unset. */
  EXECUTOR_GRPC_PORT: envPort(50052),
  /** Loopback by default (the executor takes calls from gateways only); 0.0.0.0 in a cluster (see deploy/). */
  EXECUTOR_GRPC_HOST: z.string().default('127.0.0.1'),
  /** Port of /healthz, /readyz and /metrics (Prometheus). */
  HEALTH_PORT: envPort(9104),
  ...serviceHealthPort('executor', 9104),
  /** The providers, a JSON array (see "Provider entries" below). */
  MOMA_PROVIDERS: z.string().optional(),
  /** A file holding the same JSON (used when MOMA_PROVIDERS is unset). */
  MOMA_PROVIDERS_FILE: z.string().optional(),
  /** Fallback when no providers are configured: one catch-all provider at this URL. */
  OPENAI_BASE_URL: z.string().default('https://api.openai.com/v1'),
  /** Static agent directory, JSON {"<agent id>": "<base url>"}, for agents ranked without an agent_url. */
  MOMA_AGENTS: z.string().optional(),
  /**
   * Time allowed per attempt until the first byte — a stream's first event, a non-streaming answer's response
   * headers, an agent's first event; past it the attempt fails over.
   */
  EXECUTOR_FIRST_TOKEN_TIMEOUT_MS: envInt(15_000, { min: 1 }),
  /** A non-streaming answer's whole time per attempt, from the request to its last byte. */
  EXECUTOR_TOTAL_TIMEOUT_MS: envInt(60_000, { min: 1 }),
  /** One deadline for the whole request: every attempt, fallback and the stream itself. */
  EXECUTOR_REQUEST_TIMEOUT_MS: envInt(60_000, { min: 1 }),
  /** Upstream attempts per request, across every target and provider. */
  MOMA_MAX_ATTEMPTS: envInt(3, { min: 1, max: 100 }),
  /** Usage events of this long leave as one UsageBatch message (0: one message per call). */
  EXECUTOR_USAGE_BATCH_MS: envInt(25, { min: 0, max: 10_000 }),
  /** Consecutive retryable failures (or timeouts) of one provider+model that open its breaker. */
  MOMA_BREAKER_FAILURES: envInt(5, { min: 1 }),
  /** How long an open breaker skips its provider+model before one probe is let through. */
  MOMA_BREAKER_COOLDOWN_MS: envInt(30_000, { min: 1 }),
  /** How long this instance trusts its copy of a breaker before reading the shared store again. */
  MOMA_BREAKER_CACHE_MS: envInt(1_000, { min: 0 }),
  /** Longest silence allowed between two chunks of a stream once it has started. */
  EXECUTOR_IDLE_TIMEOUT_MS: envInt(30_000, { min: 1 }),
  /** How long a fetched agent card (and its client) is reused. */
  EXECUTOR_AGENT_CARD_TTL_MS: envInt(60_000, { min: 0 }),
  /** On SIGTERM, how long running streams may take to finish before they are cut. */
  EXECUTOR_DRAIN_MS: envInt(25_000, { min: 0 }),
});

export interface ExecutorConfig {
  host: string;
  /** 0 = a free port (the handle reports the bound one). */
  port: number;
  providers: ProviderConfig[];
  agents: Record<string, string>;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
  /** Non-streaming answers, per attempt (default 60 s). */
  totalTimeoutMs?: number;
  /** The whole request (default 60 s). */
  requestTimeoutMs?: number;
  /** Upstream attempts per request (default 3). */
  maxAttempts?: number;
  /** Usage batching window (default 25 ms). */
  usageBatchMs?: number;
  breaker?: BreakerConfig;
  agentCardTtlMs: number;
  /** stop(): how long running streams may finish (default 25 s). */
  drainMs?: number;
}

export interface BreakerConfig {
  /** Consecutive retryable failures that open a breaker (default 5). */
  failures: number;
  /** Cool-off of an open breaker (default 30 s). */
  cooldownMs: number;
  /** Local read-through cache of the shared state (default 1 s). */
  cacheMs: number;
}

export type ExecutorEnvConfig = ExecutorConfig & { common: Readonly<z.output<typeof commonConfigSchema>> };

function parseJson(text: string, variable: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${variable}: not valid JSON (${(err as Error).message}) — set ${variable} to fix`, [variable]);
  }
}

/** What the OpenAI client is given for a provider configured without a key (never sent as a secret to redact). */
export const NO_KEY = 'unused';

/** Validates provider entries and resolves their keys from `env`; exported for the launcher and tests. */
export function parseProviders(raw: unknown, env: Env, variable = 'MOMA_PROVIDERS'): ProviderConfig[] {
  const parsed = z.array(providerSchema).min(1, 'configure at least one provider').safeParse(raw);
  if (!parsed.success) {
    const known = (path: PropertyKey[]) => (path.length > 1 ? Object.keys(priceSchema.shape) : Object.keys(providerSchema.shape)).join(', ');
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}${i.code === 'unrecognized_keys' ? ` (known keys: ${known(i.path)})` : ''}`)
      .join('; ');
    throw new ConfigError(`${variable}: ${issues} — set ${variable} to fix`, [variable]);
  }
  const names = new Set<string>();
  return parsed.data.map((p) => {
    if (names.has(p.name)) throw new ConfigError(`${variable}: duplicate provider name "${p.name}"`, [variable]);
    names.add(p.name);
    const fromEnv = p.apiKey === undefined && p.apiKeyEnv ? env[p.apiKeyEnv] : undefined;
    if (p.apiKey === undefined && p.apiKeyEnv && !fromEnv) {
      // Caught here, not as a 401 from the provider later (which would look like a provider failure and fall back).
      throw new ConfigError(`provider "${p.name}" takes its API key from ${p.apiKeyEnv}, which is not set — set ${p.apiKeyEnv} (or remove apiKeyEnv for a provider that needs no key)`, [p.apiKeyEnv]);
    }
    // A provider without a key (local OpenAI-compatible servers): the client insists on one, the server ignores it.
    const apiKey = p.apiKey ?? fromEnv ?? NO_KEY;
    return { name: p.name, baseUrl: p.baseUrl.replace(/\/+$/, ''), apiKey, models: p.models, modelMap: p.modelMap, prices: p.prices, headers: p.headers };
  });
}

export function loadExecutorConfig(env: Env = process.env): ExecutorEnvConfig {
  const c = loadConfig(executorConfigSchema, withServiceHealthPort(env, 'executor'));
  let providers: ProviderConfig[];
  if (c.MOMA_PROVIDERS) {
    providers = parseProviders(parseJson(c.MOMA_PROVIDERS, 'MOMA_PROVIDERS'), env);
  } else if (c.MOMA_PROVIDERS_FILE) {
    let text: string;
    try {
      text = readFileSync(c.MOMA_PROVIDERS_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError(`MOMA_PROVIDERS_FILE: cannot read ${c.MOMA_PROVIDERS_FILE} (${(err as Error).message})`, ['MOMA_PROVIDERS_FILE']);
    }
    providers = parseProviders(parseJson(text, 'MOMA_PROVIDERS_FILE'), env, 'MOMA_PROVIDERS_FILE');
  } else {
    // OpenAI itself needs OPENAI_API_KEY; another OPENAI_BASE_URL (a local server) may do without one.
    const needsKey = Boolean(env.OPENAI_API_KEY) || new URL(c.OPENAI_BASE_URL).hostname === 'api.openai.com';
    providers = parseProviders([{ name: 'default', baseUrl: c.OPENAI_BASE_URL, ...(needsKey ? { apiKeyEnv: 'OPENAI_API_KEY' } : {}), models: ['*'] }], env, 'OPENAI_BASE_URL');
  }
  const agentsRaw = c.MOMA_AGENTS ? parseJson(c.MOMA_AGENTS, 'MOMA_AGENTS') : {};
  const agents = z.record(z.string(), z.url()).safeParse(agentsRaw);
  if (!agents.success) throw new ConfigError('MOMA_AGENTS: expected {"<agent id>": "<base url>"} — set MOMA_AGENTS to fix', ['MOMA_AGENTS']);
  return Object.freeze({
    common: c,
    host: c.EXECUTOR_GRPC_HOST,
    port: c.EXECUTOR_GRPC_PORT,
    providers,
    agents: agents.data,
    firstTokenTimeoutMs: c.EXECUTOR_FIRST_TOKEN_TIMEOUT_MS,
    idleTimeoutMs: c.EXECUTOR_IDLE_TIMEOUT_MS,
    totalTimeoutMs: c.EXECUTOR_TOTAL_TIMEOUT_MS,
    requestTimeoutMs: c.EXECUTOR_REQUEST_TIMEOUT_MS,
    maxAttempts: c.MOMA_MAX_ATTEMPTS,
    usageBatchMs: c.EXECUTOR_USAGE_BATCH_MS,
    breaker: Object.freeze({ failures: c.MOMA_BREAKER_FAILURES, cooldownMs: c.MOMA_BREAKER_COOLDOWN_MS, cacheMs: c.MOMA_BREAKER_CACHE_MS }),
    agentCardTtlMs: c.EXECUTOR_AGENT_CARD_TTL_MS,
    drainMs: c.EXECUTOR_DRAIN_MS,
  });
}
