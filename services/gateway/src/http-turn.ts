// What the chat path's HTTP doors (chat completions, Anthropic Messages, OpenAI Responses) share: the session a
// request names, who served a turn, a turn run whole with the decision set on the reply, and a streamed answer's
// SSE response (opened with the first event, aborted when the client goes away).
import type { Span } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { targetText, type Turn } from '@moma/core/rules';
import type { Target } from '@moma/proto';
import type { Decided } from './decide.ts';
import type { Outcome } from './execute.ts';
import { decisionHeaders, limitHeaders } from './present.ts';
import type { GatewayRouter } from './router.ts';
import { annotate, annotateServed } from './tracing.ts';

/** The session id of `x-moma-session-id`; undefined (stateless) when it is absent or empty. */
export function sessionHeader(req: FastifyRequest): string | undefined {
  const v = req.headers['x-moma-session-id'];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Who served the turn (the decision's target when the executor names none), noted on the request's span. */
export function noteServedBy(span: Span, decided: Decided, outcome: Outcome): Target | undefined {
  const served = outcome.usage?.servedBy ?? decided.decision.target;
  span.setAttribute('app.gateway.served_by', targetText(served));
  annotateServed(span, outcome.usage);
  return served;
}

/** A streamed answer's SSE response on a fastify reply. */
export interface EventStream {
  /** Aborts when the client goes away before the answer is complete, or on `abort()`. */
  readonly signal: AbortSignal;
  abort(): void;
  /**
   * Takes the reply over from fastify and sends status 200 with `headers` (the provider's), the decision's, the
   * caller's rate limits and SSE's.
   */
  open(headers: Record<string, string>, decided: Decided): void;
  /** Stops watching for the client going away (once the answer is done). */
  close(): void;
}

export function eventStream(reply: FastifyReply): EventStream {
  const raw = reply.raw;
  const abort = new AbortController();
  const onClose = () => {
    if (!raw.writableFinished) abort.abort();
  };
  return {
    signal: abort.signal,
    abort: () => abort.abort(),
    open(headers, decided) {
      reply.hijack();
      raw.on('close', onClose);
      raw.writeHead(200, {
        ...headers,
        'x-moma-request-id': decided.requestId,
        ...decisionHeaders(decided.decision),
        ...limitHeaders(decided.limits),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
    },
    close: () => void raw.off('close', onClose),
  };
}

/** GatewayRouter.chat's onDecision: the decision goes on the request's span as soon as it is made, then to `then`. */
export function annotated(span: Span, then: (d: Decided) => void): (d: Decided) => void {
  return (d) => {
    annotate(span, d.decision);
    then(d);
  };
}

/** The decision's and the caller's rate-limit headers. */
export const replyHeaders = (d: Decided): Record<string, string> => ({ 'x-moma-request-id': d.requestId, ...decisionHeaders(d.decision), ...limitHeaders(d.limits) });

/**
 * Runs a non-streaming turn. The decision's headers are set on `reply` as soon as it is made, so even an execution
 * that fails entirely answers with what was chosen.
 */
export async function runWhole(
  router: GatewayRouter,
  turn: Turn,
  reply: FastifyReply,
  span: Span,
): Promise<{ decided: Decided; outcome: Outcome; servedBy: Target | undefined }> {
  const setHeaders = (d: Decided) => void reply.headers(replyHeaders(d));
  const { decided, outcome } = await router.chat(turn, annotated(span, setHeaders), () => undefined, undefined, false);
  return { decided, outcome, servedBy: noteServedBy(span, decided, outcome) };
}
