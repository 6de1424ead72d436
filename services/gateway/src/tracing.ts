// The gateway's own span per request (the root of the trace unless the client sent a traceparent). Kept cheap: one
// span, a few attributes set once the decision is known, no events on the success path.
import type { Metadata } from '@grpc/grpc-js';
import { context, propagation, trace, SpanKind, type Context, type Span } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { codeName, extractGrpcContext, httpStatusFor, MomaError, recordSpanError } from '@moma/platform';
import { TargetKind, type Decision, type Usage } from '@moma/proto';
import { modeName, reasonClass, targetText } from '@moma/core/rules';

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

/**
 * An HTTP route's SERVER span, named "<METHOD> <route>" with the HTTP semantic-convention attributes; the response
 * status (or, on a failure, the status the error maps to and `error.type`) is set when `fn` settles.
 */
export async function inHttpSpan<T>(req: FastifyRequest, reply: FastifyReply, fn: (span: Span) => Promise<T>): Promise<T> {
  const route = req.routeOptions.url ?? req.url.split('?')[0]!;
  const parent = parentFrom(req.headers);
  const span = tracer.startSpan(`${req.method} ${route}`, { kind: SpanKind.SERVER }, parent);
  if (span.isRecording()) {
    const host = req.host ?? '';
    const colon = host.lastIndexOf(':');
    span.setAttributes({
      'http.request.method': req.method,
      'http.route': route,
      'url.path': req.url.split('?')[0]!,
      'url.scheme': req.protocol,
      'server.address': colon > 0 && !host.endsWith(']') ? host.slice(0, colon) : host,
      ...(req.socket.localPort ? { 'server.port': req.socket.localPort } : {}),
      'client.address': req.ip,
      'network.protocol.version': req.raw.httpVersion,
      ...(typeof req.headers['user-agent'] === 'string' ? { 'user_agent.original': req.headers['user-agent'] } : {}),
    });
  }
  try {
    const out = await context.with(trace.setSpan(parent, span), fn, undefined, span);
    span.setAttribute('http.response.status_code', reply.raw.headersSent ? reply.raw.statusCode : reply.statusCode);
    return out;
  } catch (err) {
    const e = MomaError.from(err);
    span.setAttributes({ 'http.response.status_code': reply.raw.headersSent ? reply.raw.statusCode : httpStatusFor(e.code), 'error.type': codeName(e.code) });
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** A gRPC method's SERVER span ("moma.v1.Router/Chat") with the rpc.* attributes; `done` sets its status code. */
export function grpcAttributes(span: Span, method: string): void {
  if (!span.isRecording()) return;
  const slash = method.indexOf('/');
  span.setAttributes({ 'rpc.system': 'grpc', 'rpc.service': method.slice(0, slash), 'rpc.method': method.slice(slash + 1) });
}

export function failSpan(span: Span, err: unknown): void {
  recordSpanError(span, err);
}

/**
 * The decision on the request's span: GenAI attributes (the model chosen, the operation), `session.id`, the decision
 * as app.gateway.* attributes and as one `moma.decision` event.
 */
export function annotate(span: Span, d: Decision): void {
  if (!span.isRecording()) return;
  const decision = {
    'app.gateway.target': targetText(d.target),
    'app.gateway.target_kind': d.target?.kind === TargetKind.TARGET_KIND_AGENT ? 'agent' : 'llm',
    'app.gateway.mode': modeName(d.mode),
    'app.gateway.reason': d.reason,
    'app.gateway.reason_class': reasonClass(d),
    'app.gateway.fsm_state': d.fsmState,
    'app.gateway.masked': d.masked.map((m) => `${m.agentId}:${m.reason}`).join(','),
    'app.gateway.decision_ms': d.decisionMs,
    'app.gateway.router_version': d.routerVersion,
  };
  span.setAttributes({
    ...decision,
    'app.gateway.session_id': d.sessionId,
    ...(d.sessionId ? { 'session.id': d.sessionId } : {}),
    ...(d.target?.kind === TargetKind.TARGET_KIND_AGENT ? { 'gen_ai.agent.id': d.target.id } : { 'gen_ai.response.model': d.target?.id ?? '' }),
  });
  span.addEvent('moma.decision', decision);
}

/**
 * The request as the GenAI conventions name it: the operation and the model the client asked for (`moma/auto` when
 * MoMA chooses). Set on the active span (the door's) when the turn is validated.
 */
export function annotateRequest(operation: 'chat' | 'route', requestedModel: string, sessionId: string): void {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  span.setAttributes({
    'gen_ai.operation.name': operation === 'chat' ? 'chat' : 'moma.route',
    'gen_ai.request.model': requestedModel || 'moma/auto',
    ...(sessionId ? { 'session.id': sessionId } : {}),
  });
}

/** What served the request and what it consumed (GenAI usage attributes) on the door's span. */
export function annotateServed(span: Span, usage: Usage | undefined): void {
  if (!usage || !span.isRecording()) return;
  span.setAttributes({
    'app.gateway.served_by': targetText(usage.servedBy),
    ...(usage.servedBy && usage.servedBy.kind !== TargetKind.TARGET_KIND_AGENT ? { 'gen_ai.response.model': usage.servedBy.id } : {}),
    'gen_ai.usage.input_tokens': usage.promptTokens,
    'gen_ai.usage.output_tokens': usage.completionTokens,
    'app.gateway.cost_usd': usage.costUsd,
  });
}
