// OpenTelemetry tracing, configured only by the standard OTEL_* variables. Spans go out as OTLP/HTTP protobuf
// when an endpoint is set; without one there is no exporter, but spans still get ids and context still crosses
// NATS and gRPC, so a downstream service that does export keeps the caller's trace. No auto-instrumentation:
// the only spans are the ones the platform and the handlers make (the gateway's latency budget is 2 ms).
import { randomUUID } from 'node:crypto';
import { context, propagation, trace, SpanStatusCode, TraceFlags, type Attributes, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  RandomIdGenerator,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { LazyOtlpTraceExporter } from './telemetry-exporter.ts';
import { loadCommonConfig, type Env } from './config.ts';
import { MomaError } from './errors.ts';

export interface Telemetry {
  /** service.name on the resource. */
  serviceName: string;
  /** Where spans are exported, or undefined when no endpoint is configured. */
  endpoint: string | undefined;
  forceFlush(): Promise<void>;
  /** Flushes pending spans and unregisters the global provider, context manager and propagator. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  env?: Env;
  /** Replaces the OTLP exporter (tests). */
  exporter?: SpanExporter;
  /** Extra resource attributes, e.g. service.version. */
  resource?: Attributes;
}

let active: Telemetry | undefined;

/** The OTLP traces URL from the standard variables: the per-signal one wins, else `<endpoint>/v1/traces`. */
export function tracesEndpoint(cfg: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined; OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined }): string | undefined {
  if (cfg.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return cfg.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (cfg.OTEL_EXPORTER_OTLP_ENDPOINT) return `${cfg.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

function parseResourceAttributes(raw: string | undefined): Attributes {
  const out: Attributes = {};
  for (const pair of (raw ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      // A malformed percent-escape in one attribute should not stop the service from starting.
    }
  }
  return out;
}

/**
 * Starts tracing for this process. Idempotent: in the embedded single-process mode every service calls it and
 * the first call wins (one process, one resource).
 */
export function startTelemetry(serviceName: string, opts: TelemetryOptions = {}): Telemetry {
  if (active) return active;
  const cfg = loadCommonConfig(opts.env ?? process.env);

  // Context and propagation are needed even with tracing disabled: trace ids in logs and across the bus.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );

  const name = cfg.OTEL_SERVICE_NAME ?? serviceName;
  const endpoint = opts.exporter ? 'custom exporter' : tracesEndpoint(cfg);
  let provider: TracerProvider | undefined;
  const exportsSpans = opts.exporter !== undefined || endpoint !== undefined;
  // Nothing would receive the spans: ids only (trace ids in logs and across NATS/gRPC), no SDK recording work.
  if (!cfg.OTEL_SDK_DISABLED && !exportsSpans) trace.setGlobalTracerProvider(ID_ONLY_PROVIDER);
  if (!cfg.OTEL_SDK_DISABLED && exportsSpans) {
    const exporter = opts.exporter ?? (endpoint ? new LazyOtlpTraceExporter(endpoint) : undefined);
    const spanProcessors: SpanProcessor[] = exporter
      ? [new BatchSpanProcessor({ exporter, scheduledDelayMillis: cfg.OTEL_BSP_SCHEDULE_DELAY, maxQueueSize: 8192 })]
      : [];
    const root = cfg.OTEL_TRACES_SAMPLER_ARG === undefined ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(cfg.OTEL_TRACES_SAMPLER_ARG);
    provider = new TracerProvider({
      resource: resourceFromAttributes({
        'service.instance.id': randomUUID(),
        'process.pid': process.pid,
        ...parseResourceAttributes(cfg.OTEL_RESOURCE_ATTRIBUTES),
        ...opts.resource,
        'service.name': name,
      }),
      sampler: new ParentBasedSampler({ root }),
      spanProcessors,
    });
    trace.setGlobalTracerProvider(provider);
  }

  const handle: Telemetry = {
    serviceName: name,
    endpoint,
    forceFlush: async () => {
      await provider?.forceFlush();
    },
    shutdown: async () => {
      if (active !== handle) return;
      active = undefined;
      try {
        await provider?.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
      }
    },
  };
  active = handle;
  return handle;
}

/** A tracer; cheap to call per use (the API caches by name). */
export function tracer(name = '@moma/platform'): Tracer {
  return trace.getTracer(name);
}

/** Marks a span failed: the exception as an event, status ERROR, and our error code as an attribute. */
export function recordSpanError(span: Span, err: unknown): void {
  const e = MomaError.from(err);
  span.recordException(err instanceof Error ? err : e);
  span.setAttribute('moma.error.code', e.codeName);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}

/**
 * Runs `fn` in a new active span (child of the current one). A thrown error is recorded on the span (status
 * ERROR) and rethrown unchanged.
 */
export async function withSpan<T>(name: string, attrs: Attributes, fn: (span: Span) => Promise<T> | T, tracerName?: string): Promise<T> {
  return tracer(tracerName).startActiveSpan(name, { attributes: attrs }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      recordSpanError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

const ids = new RandomIdGenerator();

/**
 * The tracer when no exporter is configured: every span is a non-recording span with a fresh span id under the
 * caller's trace id and sampled flag (a new sampled trace at a root), so context still propagates and a downstream
 * service that does export keeps the caller's trace, at the cost of two random ids per span.
 */
const idOnlyTracer = {
  startSpan(_name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    const parent = options?.root ? undefined : trace.getSpanContext(ctx);
    const valid = parent !== undefined && trace.isSpanContextValid(parent);
    return trace.wrapSpanContext({
      traceId: valid ? parent.traceId : ids.generateTraceId(),
      spanId: ids.generateSpanId(),
      traceFlags: valid ? parent.traceFlags : TraceFlags.SAMPLED,
      ...(valid && parent.traceState ? { traceState: parent.traceState } : {}),
    });
  },
  startActiveSpan(name: string, ...rest: unknown[]): unknown {
    const fn = rest[rest.length - 1] as (span: Span) => unknown;
    const options = rest.length >= 2 ? (rest[0] as SpanOptions | undefined) : undefined;
    const ctx = rest.length >= 3 ? ((rest[1] as Context | undefined) ?? context.active()) : context.active();
    const span = idOnlyTracer.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), fn, undefined, span);
  },
} as Tracer;

const ID_ONLY_PROVIDER = { getTracer: (): Tracer => idOnlyTracer };
