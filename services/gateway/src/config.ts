// The gateway's only reader of process.env: parsed once at boot, frozen, with a message naming the variable to fix.
import { commonConfigSchema, envInt, envPort, loadConfig, type Env, serviceHealthPort, withServiceHealthPort } from '@moma/platform';
import { z } from 'zod';

/**
 * MOMA_SWITCH_COST when unset: five quality points. On the LLMRouter test conversations (`moma eval --turns 5`) it cut
 * switches per conversation by about two thirds at no loss of quality (docs/llm-routing.md, "Sessions").
 */
export const DEFAULT_SWITCH_COST = 0.05;

export const gatewayConfigSchema = commonConfigSchema.extend({
  /** Port of the HTTP API (OpenAI, Anthropic and Responses doors, admin, /ui). */
  GATEWAY_HTTP_PORT: envPort(8080),
  /** Port of the gRPC API (moma.v1.Router, moma.v1.AgentRegistry, reflection, health). */
  GATEWAY_GRPC_PORT: envPort(50051),
  /** Port of /healthz, /readyz and /metrics (Prometheus). */
  HEALTH_PORT: envPort(9100),
  ...serviceHealthPort('gateway', 9100),
  /** Address to bind both servers to. */
  GATEWAY_HOST: z.string().default('0.0.0.0'),
  /**
   * The executors: host:port, a comma-separated list of ip:port, or a gRPC target such as dns:///executor:50052.
   * Unset: 127.0.0.1 at EXECUTOR_GRPC_PORT, the port the executor itself reads, so moving that one setting moves both.
   */
  EXECUTOR_ADDR: z.string().min(1).optional(),
  /** The executor's gRPC port (the executor's own setting); the gateway dials it on 127.0.0.1 when EXECUTOR_ADDR is unset. */
  EXECUTOR_GRPC_PORT: envPort(50052),
  /** HTTP request body limit in bytes (larger bodies get 413). */
  GATEWAY_BODY_LIMIT_BYTES: envInt(1024 * 1024, { min: 1024 }),
  /**
   * Longest time a client may take to send a whole request (headers and body); past it the gateway answers 408 and
   * closes the connection, so a client that stalls mid-body cannot hold it open.
   */
  GATEWAY_BODY_TIMEOUT_MS: envInt(10_000, { min: 100 }),
  /**
   * The admin API key. Set, every HTTP and gRPC call needs `Authorization: Bearer <key>` (this one, or a key made
   * with it through /v1/admin/keys or `moma keys create`); unset, the gateway is open (local use; it says so at start).
   */
  MOMA_ADMIN_KEY: z.string().min(16, 'MOMA_ADMIN_KEY must be at least 16 characters').optional(),
  /** How long a verified (or refused) API key is trusted before it is looked up again: a revoked key stops within it. */
  MOMA_KEY_CACHE_MS: envInt(5000, { min: 0, max: 600_000 }),
  /** How long the known-model list from scoring is cached before it is fetched again. */
  GATEWAY_MODELS_TTL_MS: envInt(10_000, { min: 0 }),
  /** Deadline of one whole execution (executor stream), in ms. */
  GATEWAY_EXECUTE_TIMEOUT_MS: envInt(120_000, { min: 1 }),
  /**
   * In a session, what leaving the previous turn's model costs, in the ranking's utility units (predicted quality in
   * [0,1] less cost / willingness to pay): another model takes the turn only when it is better by at least this much.
   * The default for turns whose options set no `switch_cost`; 0 = rank every turn afresh.
   */
  MOMA_SWITCH_COST: z.coerce.number({ message: 'must be a number' }).min(0).max(1000).default(DEFAULT_SWITCH_COST),
});

export type GatewayConfig = Readonly<Omit<z.output<typeof gatewayConfigSchema>, 'EXECUTOR_ADDR'> & { EXECUTOR_ADDR: string }>;

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const c = loadConfig(gatewayConfigSchema, withServiceHealthPort(env, 'gateway'));
  return Object.freeze({ ...c, EXECUTOR_ADDR: c.EXECUTOR_ADDR ?? `127.0.0.1:${c.EXECUTOR_GRPC_PORT}` });
}
