// The executor's Prometheus families: upstream calls by provider, model and outcome; fallbacks; the breaker state
// each instance last saw; executions in flight (what the executor's autoscaler reads); tokens and USD by model and
// tenant; time to first token and per output token. Label children are cached: recording allocates nothing.
import { counter, gauge, histogram, UPSTREAM_BUCKETS, type Registry } from '@moma/platform';

/** Breaker states as gauge values: closed 0, half-open 1 (a probe is admitted), open 2 (skipped). */
export const BREAKER_STATE = { closed: 0, half_open: 1, open: 2 } as const;

type Child<T> = Map<string, T>;
function child<T>(m: Child<T>, key: string, make: () => T): T {
  let v = m.get(key);
  if (v === undefined) m.set(key, (v = make()));
  return v;
}

export class ExecutorMetrics {
  readonly inflight;
  readonly #calls;
  readonly #callSeconds;
  readonly #fallbacks;
  readonly #skips;
  readonly #breaker;
  readonly #tokens;
  readonly #cost;
  readonly #ttft;
  readonly #tpot;
  readonly #c: Child<{ inc(n?: number): void }> = new Map();
  readonly #h: Child<{ observe(v: number): void }> = new Map();
  readonly #g: Child<{ set(v: number): void }> = new Map();

  constructor(registry: Registry) {
    this.inflight = gauge(registry, 'moma_executor_inflight_requests', 'Executions in progress on this instance (the executor HPA scales on it)', []);
    this.#calls = counter(registry, 'moma_upstream_requests_total', 'Calls to providers and agents, by provider ("agent" for A2A agents), model or agent id, and outcome (ok, http_<status>, timeout_<phase>, connection_error, deadline, failed_after_output, error)', ['provider', 'model', 'outcome']);
    this.#callSeconds = histogram(registry, 'moma_upstream_request_duration_seconds', 'Time of one upstream call to its last byte, by provider and model', ['provider', 'model'], UPSTREAM_BUCKETS);
    this.#fallbacks = counter(registry, 'moma_fallbacks_total', 'Targets left for the next ranked one, by the target kind (llm, agent) and the outcome that made the executor move on', ['kind', 'reason']);
    this.#skips = counter(registry, 'moma_upstream_skipped_total', 'Deployments skipped without a call, by provider, model and reason (rate_limited, breaker_open)', ['provider', 'model', 'reason']);
    this.#breaker = gauge(registry, 'moma_circuit_breaker_state', 'Circuit breaker of a provider+model as this instance last saw it (0 closed, 1 half-open, 2 open; the state itself is shared in the store)', ['provider', 'model']);
    this.#tokens = counter(registry, 'moma_tokens_total', 'Tokens of successful calls, by model (the one that answered), tenant and direction (input, output)', ['model', 'tenant', 'direction']);
    this.#cost = counter(registry, 'moma_cost_usd_total', 'USD of successful calls at the configured prices, by model and tenant', ['model', 'tenant']);
    this.#ttft = histogram(registry, 'moma_time_to_first_token_seconds', 'From the upstream call to its first streamed output, by model', ['model'], UPSTREAM_BUCKETS);
    this.#tpot = histogram(registry, 'moma_time_per_output_token_seconds', 'Streaming time after the first output divided by the output tokens after the first, by model', ['model'], [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64]);
  }

  call(provider: string, model: string, outcome: string, seconds: number): void {
    child(this.#c, `c\u0000${provider}\u0000${model}\u0000${outcome}`, () => this.#calls.labels({ provider, model, outcome })).inc();
    child(this.#h, `d\u0000${provider}\u0000${model}`, () => this.#callSeconds.labels({ provider, model })).observe(seconds);
  }

  skip(provider: string, model: string, reason: string): void {
    child(this.#c, `s\u0000${provider}\u0000${model}\u0000${reason}`, () => this.#skips.labels({ provider, model, reason })).inc();
    this.breaker(provider, model, reason === 'breaker_open' ? BREAKER_STATE.open : BREAKER_STATE.closed);
  }

  breaker(provider: string, model: string, state: number): void {
    child(this.#g, `${provider}\u0000${model}`, () => this.#breaker.labels({ provider, model })).set(state);
  }

  fallback(kind: 'llm' | 'agent', reason: string): void {
    child(this.#c, `f\u0000${kind}\u0000${reason}`, () => this.#fallbacks.labels({ kind, reason })).inc();
  }

  /** A successful call's usage and timing; `firstOutputS` undefined when nothing was streamed. */
  served(model: string, tenant: string, input: number, output: number, costUsd: number, startedS: number, firstOutputS: number | undefined, endS: number): void {
    const t = tenant || '(none)';
    if (input > 0) child(this.#c, `ti\u0000${model}\u0000${t}`, () => this.#tokens.labels({ model, tenant: t, direction: 'input' })).inc(input);
    if (output > 0) child(this.#c, `to\u0000${model}\u0000${t}`, () => this.#tokens.labels({ model, tenant: t, direction: 'output' })).inc(output);
    if (costUsd > 0) child(this.#c, `u\u0000${model}\u0000${t}`, () => this.#cost.labels({ model, tenant: t })).inc(costUsd);
    if (firstOutputS === undefined) return;
    child(this.#h, `t\u0000${model}`, () => this.#ttft.labels({ model })).observe(firstOutputS - startedS);
    if (output > 1) child(this.#h, `p\u0000${model}`, () => this.#tpot.labels({ model })).observe((endS - firstOutputS) / (output - 1));
  }
}
