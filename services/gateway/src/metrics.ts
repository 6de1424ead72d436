// The gateway's Prometheus families: requests by door, route and status; end-to-end and decision latency; the
// decisions themselves by target, mode and reason class. Label children are cached, so recording allocates nothing.
import { counter, histogram, type Registry } from '@moma/platform';
import { reasonClass, targetText } from '@moma/core/rules';
import { TargetKind, type Decision } from '@moma/proto';
import { modeName } from '@moma/core/rules';

/** Which public door a route belongs to (bounded: an unknown path is "http"). */
export function doorOf(route: string): string {
  if (route.startsWith('moma.v1.')) return 'grpc';
  if (route === '/v1/chat/completions' || route === '/v1/models' || route.startsWith('/v1/models/')) return 'openai';
  if (route.startsWith('/v1/messages')) return 'anthropic';
  if (route.startsWith('/v1/responses')) return 'responses';
  if (route.startsWith('/v1/admin') || route === '/v1/usage') return 'admin';
  if (route.startsWith('/v1/agents')) return 'agents';
  if (route.startsWith('/ui')) return 'ui';
  return 'http';
}

type Cached<T> = Map<string, T>;
function cached<T>(map: Cached<T>, key: string, make: () => T): T {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

export class GatewayMetrics {
  readonly #requests;
  readonly #latency;
  readonly #decisions;
  readonly #decisionLatency;
  readonly #children: Cached<{ inc(): void }> = new Map();
  readonly #timers: Cached<{ observe(v: number): void }> = new Map();

  constructor(registry: Registry) {
    this.#requests = counter(registry, 'moma_gateway_requests_total', 'Requests answered by the gateway, by door (openai, anthropic, responses, grpc, agents, admin, ui, http), route pattern and status (HTTP status code, or gRPC code name)', ['door', 'route', 'status']);
    this.#latency = histogram(registry, 'moma_gateway_request_duration_seconds', 'End-to-end time of a gateway request (to the last byte of a stream), by door and route', ['door', 'route'], [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]);
    this.#decisions = counter(registry, 'moma_decisions_total', 'Routing decisions, by target kind (agent, llm), target, mode and reason class', ['target_kind', 'target', 'mode', 'reason']);
    this.#decisionLatency = histogram(registry, 'moma_decision_duration_seconds', 'Time to a decision (intent, scoring and orchestrator stages), by target kind', ['target_kind']);
  }

  /** One answered request; `route` is the route pattern (never the raw URL), `status` its HTTP status or gRPC code. */
  request(route: string, status: string, seconds: number): void {
    const door = doorOf(route);
    cached(this.#children, `${status} ${route}`, () => this.#requests.labels({ door, route, status })).inc();
    cached(this.#timers, route, () => this.#latency.labels({ door, route })).observe(seconds);
  }

  decision(d: Decision): void {
    const kind = d.target?.kind === TargetKind.TARGET_KIND_AGENT ? 'agent' : 'llm';
    const target = targetText(d.target);
    const mode = modeName(d.mode);
    const reason = reasonClass(d);
    cached(this.#children, `d ${kind} ${target} ${mode} ${reason}`, () => this.#decisions.labels({ target_kind: kind, target, mode, reason })).inc();
    cached(this.#timers, `d ${kind}`, () => this.#decisionLatency.labels({ target_kind: kind })).observe(d.decisionMs / 1000);
  }
}
