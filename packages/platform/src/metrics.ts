// Prometheus metrics: one registry per process with the Node defaults, plus request counters/histograms that
// every stage records the same way (service, endpoint, code), so dashboards compare stages directly.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Code, MomaError, codeName } from './errors.ts';

export interface RequestMetrics {
  /** Records one finished request. */
  observe(endpoint: string, code: Code, seconds: number): void;
  /** Times `fn`, recording OK or the MomaError code it threw (rethrown unchanged). */
  time<T>(endpoint: string, fn: () => Promise<T>): Promise<T>;
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

// Sub-millisecond buckets: a stage's budget is a fraction of the gateway's 2 ms p50.
const BUCKETS = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function requestMetrics(registry: Registry, prefix = 'moma'): RequestMetrics {
  const existing = registry.getSingleMetric(`${prefix}_requests_total`);
  const total =
    (existing as Counter<'endpoint' | 'code'> | undefined) ??
    new Counter({ name: `${prefix}_requests_total`, help: 'Requests handled, by endpoint and status code', labelNames: ['endpoint', 'code'], registers: [registry] });
  const duration =
    (registry.getSingleMetric(`${prefix}_request_duration_seconds`) as Histogram<'endpoint'> | undefined) ??
    new Histogram({
      name: `${prefix}_request_duration_seconds`,
      help: 'Request handling time in seconds, by endpoint',
      labelNames: ['endpoint'],
      buckets: BUCKETS,
      registers: [registry],
    });
  const observe = (endpoint: string, code: Code, seconds: number) => {
    total.inc({ endpoint, code: codeName(code) });
    duration.observe({ endpoint }, seconds);
  };
  return {
    observe,
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
