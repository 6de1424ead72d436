// The gateway's own span per request (the root of the trace unless the client sent a traceparent). Kept cheap: one
// span, a few attributes set once the decision is known, no events on the success path.
import type { Metadata } from '@grpc/grpc-js';
import { context, propagation, trace, SpanKind, type Context, type Span } from '@opentelemetry/api';
import { extractGrpcContext, recordSpanError } from '@moma/platform';
import type { Decision } from '@moma/proto';
import { modeName, targetText } from '@moma/core/rules';

const tracer = trace.getTracer('@moma/gateway');

type Headers = Record<string, string | string[] | undefined>;
const headerGetter = {
  get: (h: Headers, k: string) => {
    const v = h[k];
    return Array.isArray(v) ? v[0] : v;
  },
  keys: (h: Headers) => Object.keys(h),
};

/** Parent context from incoming HTTP headers (W3C traceparent), when the client sent one. */
export function parentFrom(headers: Headers): Context {
  return headers.traceparent === undefined ? context.active() : propagation.extract(context.active(), headers, headerGetter);
}

/** Parent context from incoming gRPC metadata. */
export function parentFromMetadata(md: Metadata): Context {
  return md.get('traceparent').length === 0 ? context.active() : extractGrpcContext(md);
}

/** Runs `fn` inside a SERVER span; errors are recorded with their MomaError code and rethrown. */
export async function inSpan<T>(name: string, parent: Context, fn: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), fn, undefined, span);
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

export function failSpan(span: Span, err: unknown): void {
  recordSpanError(span, err);
}

export function annotate(span: Span, d: Decision): void {
  if (!span.isRecording()) return;
  span.setAttributes({
    'app.gateway.target': targetText(d.target),
    'app.gateway.mode': modeName(d.mode),
    'app.gateway.session_id': d.sessionId,
    'app.gateway.fsm_state': d.fsmState,
    'app.gateway.masked': d.masked.map((m) => `${m.agentId}:${m.reason}`).join(','),
    'app.gateway.decision_ms': d.decisionMs,
  });
}
