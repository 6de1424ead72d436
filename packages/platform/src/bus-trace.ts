// Trace context across the bus: the caller's span is injected into message headers (W3C traceparent) and the
// handler's span is started from the extracted context, so one request is one trace whatever the transport.
import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { MomaError } from './errors.ts';

const tracer = trace.getTracer('@moma/platform/bus');

/** Header access shared by NATS MsgHdrs and the memory bus's Map. */
export interface HeaderCarrier {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  keys(): Iterable<string>;
}

const setter: TextMapSetter<HeaderCarrier> = { set: (c, k, v) => c.set(k, v) };
const getter: TextMapGetter<HeaderCarrier> = {
  get: (c, k) => c.get(k),
  keys: (c) => [...c.keys()],
};

export function injectContext(ctx: Context, carrier: HeaderCarrier): void {
  propagation.inject(ctx, carrier, setter);
}

export function extractContext(carrier: HeaderCarrier | undefined): Context {
  return carrier ? propagation.extract(context.active(), carrier, getter) : context.active();
}

function attrs(subject: string, op: string) {
  return { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': op };
}

/** Runs `fn` in a CLIENT/PRODUCER span for a bus call; the span's context is handed to `fn` for injection. */
export async function withClientSpan<T>(
  subject: string,
  op: 'send' | 'publish',
  fn: (ctx: Context) => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(`${op} ${subject}`, {
    kind: op === 'send' ? SpanKind.CLIENT : SpanKind.PRODUCER,
    attributes: attrs(subject, op),
  });
  const ctx = trace.setSpan(context.active(), span);
  try {
    return await fn(ctx);
  } catch (err) {
    recordError(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Runs a handler in a SERVER/CONSUMER span that is a child of the context carried in `headers`. */
export async function withServerSpan<T>(
  subject: string,
  op: 'process' | 'receive',
  headers: HeaderCarrier | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const parent = extractContext(headers);
  const span = tracer.startSpan(
    `${op} ${subject}`,
    { kind: op === 'process' ? SpanKind.SERVER : SpanKind.CONSUMER, attributes: attrs(subject, op) },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), fn);
  } catch (err) {
    recordError(span, err);
    throw err;
  } finally {
    span.end();
  }
}

function recordError(span: Span, err: unknown): void {
  const e = MomaError.from(err);
  span.recordException(e);
  span.setAttribute('moma.error.code', e.codeName);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}

/** A map carrier for one context's W3C headers. */
class MapCarrier implements HeaderCarrier {
  readonly m = new Map<string, string>();
  get(k: string) {
    return this.m.get(k);
  }
  set(k: string, v: string) {
    this.m.set(k, v);
  }
  keys() {
    return this.m.keys();
  }
}

/**
 * Events that travel in batches (the executor's usage events) carry their own trace context: this records the event's
 * PRODUCER span `create <subject>` as a child of `parent` (the call the event is about) and returns its W3C
 * traceparent, '' when nothing is traced. The batch's own `publish` span is separate.
 */
export function eventTraceparent(subject: string, parent: Context = context.active()): string {
  const span = tracer.startSpan(`create ${subject}`, { kind: SpanKind.PRODUCER, attributes: attrs(subject, 'create') }, parent);
  if (!span.isRecording()) {
    span.end();
    return '';
  }
  const c = new MapCarrier();
  injectContext(trace.setSpan(parent, span), c);
  span.end();
  return c.get('traceparent') ?? '';
}

/** The context an event's traceparent names (the active context when it is empty or malformed). */
export function eventContext(traceparent: string): Context {
  if (!traceparent) return context.active();
  const c = new MapCarrier();
  c.set('traceparent', traceparent);
  return extractContext(c);
}

/**
 * Runs the handling of a batch of events with one CONSUMER span `process <subject>` per event, each a child of its
 * event's producer span (so it is in the trace of the request the event is about) and linked to the batch's delivery
 * span. `fn` runs in the first event's span; errors are recorded on every span.
 */
export async function withEventSpans<T>(subject: string, traceparents: readonly string[], fn: () => Promise<T>): Promise<T> {
  const delivery = trace.getActiveSpan()?.spanContext();
  const links = delivery ? [{ context: delivery }] : [];
  const spans = traceparents.map((tp) =>
    tracer.startSpan(`process ${subject}`, { kind: SpanKind.CONSUMER, attributes: attrs(subject, 'process'), ...(tp ? { links } : {}) }, eventContext(tp)),
  );
  const first = spans[0];
  try {
    return await (first ? context.with(trace.setSpan(context.active(), first), fn) : fn());
  } catch (err) {
    for (const span of spans) recordError(span, err);
    throw err;
  } finally {
    for (const span of spans) span.end();
  }
}
