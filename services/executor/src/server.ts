// The gRPC face of the executor: one SERVER span per Execute (child of the caller's span via W3C trace context in
// the metadata), events written to the stream, errors as gRPC status, and a UsageEvent published after each call.
import { Metadata, type handleServerStreamingCall, type ServerWritableStream } from '@grpc/grpc-js';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { targetText } from '@moma/core/rules';
import { Code, eventContext, eventTraceparent, extractGrpcContext, MomaError, publishEvent, type Bus, type Logger, type RequestMetrics } from '@moma/platform';
import { ExecutorErrorMetadata, Topics, type ExecuteRequest, type ExecuteResponse, type UsageEvent } from '@moma/proto';
import type { ExecuteOutcome, Executor } from './execute.ts';

const tracer = trace.getTracer('@moma/executor');

/**
 * Publishes off the hot path: the call never waits for JetStream, and the events of `batchMs` (default 25 ms, at
 * most `maxBatch` of them) leave as one UsageBatch: one JetStream message, one stored record and one ack for many
 * calls instead of one each per call. `settle()` sends what is queued and waits for the acks (shutdown). At most
 * `maxInFlight` events are queued or awaiting an ack: when JetStream is slower than the request rate, further events
 * are dropped and counted (one warning per 1000) rather than piling up in memory.
 */
export class UsagePublisher {
  readonly #bus: Bus;
  readonly #logger: Logger;
  readonly #pending = new Set<Promise<void>>();
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  readonly #batchMs: number;
  #inFlight = 0;
  #queue: UsageEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #dropped = 0;

  constructor(bus: Bus, logger: Logger, opts: { maxInFlight?: number; batchMs?: number; maxBatch?: number } = {}) {
    this.#bus = bus;
    this.#logger = logger;
    this.#maxInFlight = opts.maxInFlight ?? 4096;
    this.#batchMs = opts.batchMs ?? 25;
    this.#maxBatch = opts.maxBatch ?? 256;
  }

  /** Events dropped because too many were queued or waiting for an ack. */
  get dropped(): number {
    return this.#dropped;
  }

  publish(event: UsageEvent): void {
    if (this.#inFlight + this.#queue.length >= this.#maxInFlight) {
      if (this.#dropped++ % 1000 === 0) {
        this.#logger.warn({ dropped: this.#dropped, inFlight: this.#inFlight }, 'usage events dropped: JetStream is not keeping up');
      }
      return;
    }
    this.#queue.push(event);
    if (this.#queue.length >= this.#maxBatch) this.#flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#flush(), this.#batchMs);
      this.#timer.unref();
    }
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return;
    const events = this.#queue;
    this.#queue = [];
    this.#inFlight += events.length;
    // The batch's publish span joins the first event's trace (each event carries its own context for its consumer).
    const p: Promise<void> = context
      .with(eventContext(events[0]!.traceparent), () => publishEvent(this.#bus, Topics.usage, { events }))
      .catch((err: unknown) => this.#logger.warn({ err: MomaError.from(err).message, events: events.length }, 'usage events not published'))
      .finally(() => {
        this.#inFlight -= events.length;
        this.#pending.delete(p);
      });
    this.#pending.add(p);
  }

  async settle(): Promise<void> {
    this.#flush();
    await Promise.allSettled([...this.#pending]);
  }
}

/** `metrics`: every call counted and timed (call start to end of stream) as moma.v1.Executor/Execute. */
export function executeHandler(
  executor: Executor,
  usage: UsagePublisher,
  logger: Logger,
  metrics?: RequestMetrics,
  inflight?: { inc(): void; dec(): void },
): handleServerStreamingCall<ExecuteRequest, ExecuteResponse> {
  return (call: ServerWritableStream<ExecuteRequest, ExecuteResponse>) => {
    const t0 = performance.now();
    inflight?.inc();
    const parent = extractGrpcContext(call.metadata, ROOT_CONTEXT);
    const req = call.request;
    const span = tracer.startSpan(
      'moma.v1.Executor/Execute',
      {
        kind: SpanKind.SERVER,
        attributes: {
          'rpc.system': 'grpc',
          'rpc.service': 'moma.v1.Executor',
          'rpc.method': 'Execute',
          'app.executor.target': targetText(req.decision?.target),
          'app.executor.candidates': req.decision?.ranked.length ?? 0,
          'app.session.id': req.decision?.sessionId ?? '',
          ...(req.decision?.sessionId ? { 'session.id': req.decision.sessionId } : {}),
        },
      },
      parent,
    );
    const abort = new AbortController();
    // grpc-js also emits 'cancelled' when a finished call closes; aborting then would only build an Error and
    // dispatch an event for nothing on every call.
    let finished = false;
    call.on('cancelled', () => {
      if (!finished) abort.abort(new Error('cancelled by the client'));
    });
    let fallbacks = 0;
    const emit = (ev: ExecuteResponse) => {
      if (ev.fallback !== undefined) fallbacks++;
      if (!call.cancelled) call.write(ev);
    };

    const finish = (outcome: ExecuteOutcome | undefined, err: MomaError | undefined) => {
      finished = true;
      inflight?.dec();
      metrics?.observe('moma.v1.Executor/Execute', err ? err.code : Code.OK, (performance.now() - t0) / 1000);
      if (outcome) {
        const u = outcome.usage;
        span.setAttributes({
          'app.executor.served_by': targetText(u.servedBy),
          'app.executor.failed': u.failed.map(targetText),
          'app.executor.fallbacks': fallbacks,
          'app.executor.attempts': outcome.attempts,
          'app.executor.prompt_tokens': u.promptTokens,
          'app.executor.completion_tokens': u.completionTokens,
          'app.executor.cost_usd': u.costUsd,
          'app.executor.latency_ms': u.latencyMs,
        });
        const chosen = req.decision?.ranked.find((c) => c.target && req.decision?.target && c.target.kind === req.decision.target.kind && c.target.id === req.decision.target.id);
        usage.publish({
          requestId: req.requestId || span.spanContext().traceId,
          decisionMs: req.decision?.decisionMs ?? 0,
          mode: req.decision?.mode ?? 0,
          predictedQuality: chosen?.predictedQuality ?? 0,
          predictedCostUsd: chosen?.predictedCostUsd ?? 0,
          sessionId: req.decision?.sessionId ?? '',
          target: req.decision?.target,
          usage: u,
          ok: outcome.ok,
          atMs: Date.now(),
          tenant: req.tenant,
          keyId: req.keyId,
          traceparent: eventTraceparent(Topics.usage.subject, trace.setSpan(parent, span)),
        });
      }
      if (err) {
        span.recordException(err);
        span.setAttribute('moma.error.code', err.codeName);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        if (err.code !== Code.CANCELLED) logger.warn({ code: err.codeName, err: err.message, target: targetText(req.decision?.target) }, 'execute failed');
        if (!call.cancelled) call.emit('error', { code: err.code, details: err.message, metadata: errorMetadata(err) });
      } else {
        call.end();
      }
      span.end();
    };

    context
      .with(trace.setSpan(parent, span), () => executor.execute(req, emit, abort.signal))
      .then(
        (outcome) => finish(outcome, outcome.error),
        (err: unknown) => finish(undefined, MomaError.from(err)),
      );
  };
}

/** gRPC metadata keys of a failed Execute, read by the gateway (the contract's ExecutorErrorMetadata). */
export const { upstreamStatus: UPSTREAM_STATUS_KEY, retryAfter: RETRY_AFTER_KEY, attempts: ATTEMPTS_KEY } = ExecutorErrorMetadata;
const NO_RETRY_KEY = 'grpc-retry-pushback-ms';

/**
 * What the gateway needs beyond code and message: the HTTP status to answer with (a provider's refusal, or 502 after
 * a provider's 5xx), when to come back (seconds), and the attempts summary (JSON, UTF-8, in a binary key because
 * model ids need not be ASCII).
 */
export function errorMetadata(err: MomaError): Metadata {
  const md = new Metadata();
  // The executor's own verdict after its attempts (gRFC A6 server pushback < 0): a client retry policy on
  // UNAVAILABLE (the gateway's, for instances that die or drain) must not run the whole request again elsewhere.
  md.set(NO_RETRY_KEY, '-1');
  const d = err.details;
  if (typeof d?.upstreamStatus === 'number') md.set(UPSTREAM_STATUS_KEY, String(d.upstreamStatus));
  if (typeof d?.retryAfterSeconds === 'number') md.set(RETRY_AFTER_KEY, String(d.retryAfterSeconds));
  if (Array.isArray(d?.attempts) && d.attempts.length > 0) md.set(ATTEMPTS_KEY, Buffer.from(JSON.stringify(d.attempts), 'utf8'));
  return md;
}
