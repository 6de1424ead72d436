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
