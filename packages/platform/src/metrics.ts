// Prometheus metrics: one registry per process with the Node defaults, plus request counters/histograms that
// every stage records the same way (service, endpoint, code), so dashboards compare stages directly.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Code, MomaError, codeName } from './errors.ts';

export interface RequestMetrics {
  /** Records one finished request. */
  observe(endpoint: string, code: Code, seconds: number): void;
  /** Times `fn`, recording OK or the MomaError code it threw (rethrown unchanged). */
  time<T>(endpoint: string, fn: () => Promise<T>): Promise<T>;
  /** Records one stage call made over the bus (caller side), by its subject `moma.<stage>.<rpc>`. */
  call(subject: string, code: Code, seconds: number): void;
}

/** What a service's start function may be given to record metrics (a PlatformContext has both). */
export interface Metered {
  metrics?: RequestMetrics;
  registry?: Registry;
}

let shared: Registry | undefined;

/** The process registry (created on first use, with default Node metrics labelled by service). */
export function metricsRegistry(service?: string): Registry {
  if (!shared) {
    shared = new Registry();
    if (service) shared.setDefaultLabels({ service });
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}

/** The counter `name` of `registry`, created on first use (embedded mode has one registry for five services). */
export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

/** The gauge `name` of `registry`, created on first use. */
export function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Gauge<L> {
  return (registry.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [registry] });
}

/** The histogram `name` of `registry` (seconds, `buckets` default: sub-millisecond to 10 s), created on first use. */
export function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[] = BUCKETS,
): Histogram<L> {
  return (registry.getSingleMetric(name) as Histogram<L> | undefined) ?? new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

/** Buckets for what a model takes (first token, a whole answer): 10 ms to 2 minutes. */
export const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

// Sub-millisecond buckets: a stage's budget is a fraction of the gateway's 2 ms p50.
const BUCKETS = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function requestMetrics(registry: Registry, prefix = 'moma'): RequestMetrics {
  const total = counter(registry, `${prefix}_requests_total`, 'Requests handled, by endpoint and status code', ['endpoint', 'code']);
  const duration = histogram(registry, `${prefix}_request_duration_seconds`, 'Request handling time in seconds, by endpoint', ['endpoint']);
  const stageCalls = histogram(
    registry,
    `${prefix}_stage_request_duration_seconds`,
    'Stage calls made over the bus (NATS request/reply), caller side: time to the reply, by stage, rpc and status code',
    ['stage', 'rpc', 'code'],
  );
  // Label children cached per endpoint and code: no label-object allocation per request.
  const totals = new Map<string, Counter.Internal>();
  const durations = new Map<string, Histogram.Internal<'endpoint'>>();
  const calls = new Map<string, Histogram.Internal<'stage' | 'rpc' | 'code'>>();
  const observe = (endpoint: string, code: Code, seconds: number) => {
    const key = `${code} ${endpoint}`;
    let t = totals.get(key);
    if (!t) totals.set(key, (t = total.labels({ endpoint, code: codeName(code) })));
    t.inc();
    let d = durations.get(endpoint);
    if (!d) durations.set(endpoint, (d = duration.labels({ endpoint })));
    d.observe(seconds);
  };
  return {
    observe,
    call(subject, code, seconds) {
      const key = `${code} ${subject}`;
      let c = calls.get(key);
      if (!c) {
        // moma.<stage>.<rpc>; anything else (an event subject, a test's own) keeps its whole subject as the rpc.
        const [, stage = '', rpc = subject] = /^moma\.([a-z]+)\.(\w+)$/.exec(subject) ?? [];
        calls.set(key, (c = stageCalls.labels({ stage, rpc, code: codeName(code) })));
      }
      c.observe(seconds);
    },
    async time(endpoint, fn) {
      const t0 = performance.now();
      try {
        const out = await fn();
        observe(endpoint, Code.OK, (performance.now() - t0) / 1000);
        return out;
      } catch (err) {
        observe(endpoint, MomaError.from(err).code, (performance.now() - t0) / 1000);
        throw err;
      }
    },
  };
}

/** Runs one bus request, recording it as a stage call (OK or the MomaError code it threw) when `metrics` is given. */
export async function timedCall<T>(metrics: RequestMetrics | undefined, subject: string, fn: () => Promise<T>): Promise<T> {
  if (!metrics) return fn();
  const t0 = performance.now();
  try {
    const out = await fn();
    metrics.call(subject, Code.OK, (performance.now() - t0) / 1000);
    return out;
  } catch (err) {
    metrics.call(subject, MomaError.from(err).code, (performance.now() - t0) / 1000);
    throw err;
  }
}
