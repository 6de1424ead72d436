// Steps 6-7: stream the decision through the executor (one shared gRPC channel) and record how the turn ended.
import * as grpc from '@grpc/grpc-js';
import { mergeConversation, parseTarget, sameTarget, type Turn } from '@moma/core/rules';
import type { Logger } from '@moma/platform';
import { Code, MomaError, fromGrpcStatus, injectGrpcMetadata } from '@moma/platform';
import { ExecutorClient, ExecutorErrorMetadata, type ChatMessage, type ExecuteRequest, type ExecuteResponse, type ProviderStatusResponse, type Target, type Usage } from '@moma/proto';
import type { Decided, Stages } from './decide.ts';

/** What one execution produced, accumulated while the events are relayed. */
export interface Outcome {
  text: string;
  /** A forwarded non-streaming call: the provider's JSON answer as it was sent. */
  body: Buffer | undefined;
  /** Provider headers passed on (x-request-id, x-ratelimit-*). */
  headers: Record<string, string>;
  /** The answer came as the provider's own chunks (a forwarded streaming call). */
  forwarded: boolean;
  usage: Usage | undefined;
  fallbacks: Target[];
  agentState: string;
  agentContextId: string;
  agentTaskId: string;
  /** A streamed session turn whose answer could not be recorded: why (the final event says so). */
  notRecorded?: string;
}

export class Executor {
  private readonly client: ExecutorClient;
  private readonly timeoutMs: number;

  constructor(addr: string, timeoutMs: number) {
    this.client = new ExecutorClient(executorTarget(addr), grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      // Per-call channelz bookkeeping costs CPU on every request and nothing here reads it.
      'grpc.enable_channelz': 0,
      'grpc.service_config': EXECUTOR_SERVICE_CONFIG,
      // grpc-js backs off up to 120 s between attempts to reach an instance that refused a connection: one that
      // started after the gateway, or came back, would wait that long for traffic. Within a cluster a refused
      // connect costs nothing, so keep trying every 2 s at most.
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 2_000,
    });
    this.timeoutMs = timeoutMs;
  }

  /**
   * Runs the decision and calls `onEvent` for each streamed event; resolves with the outcome when the stream ends.
   * `signal` cancels the call (client went away).
   */
  async run(
    decided: Decided,
    turn: Turn,
    onEvent: (ev: ExecuteResponse) => void,
    signal?: AbortSignal,
    stream = true,
    payer: { tenant: string; keyId: string } = { tenant: turn.options.tenant, keyId: '' },
  ): Promise<Outcome> {
    const { decision, orchestration } = decided;
    const req: ExecuteRequest = {
      decision,
      messages: mergeConversation(turn.messages, orchestration.history),
      // The client's own request, every field, with the session's history merged into its messages.
      body: turn.forward ? Buffer.from(JSON.stringify(forwardWithHistory(turn.forward, orchestration.history))) : NO_BODY,
      maxTokens: turn.maxTokens,
      temperature: turn.temperature,
      agentContextId: orchestration.agentContextId,
      agentTaskId: orchestration.agentTaskId,
      agentUrl: orchestration.agentUrl,
      stream,
      tenant: payer.tenant,
      keyId: payer.keyId,
      requestId: decided.requestId,
    };
    let events = 0;
    const relay = (ev: ExecuteResponse) => {
      events++;
      onEvent(ev);
    };
    try {
      return await this.call(req, relay, signal);
    } catch (err) {
      // No instance was connected, so the call never left the gateway: the one that took the calls died and the
      // others are between reconnect attempts. Wait (bounded) for one to connect and try once more rather than fail
      // the turn. (A connection dropped mid-call is not retried here: the executor may have called the provider.)
      if (events > 0 || signal?.aborted || !(err instanceof MomaError && err.code === Code.UNAVAILABLE && NOT_SENT.test(err.message))) throw err;
      await this.ready(RECONNECT_WAIT_MS).catch(() => {
        throw err;
      });
      return await this.call(req, onEvent, signal);
    }
  }

  private async call(req: ExecuteRequest, onEvent: (ev: ExecuteResponse) => void, signal: AbortSignal | undefined): Promise<Outcome> {
    const call = this.client.execute(req, injectGrpcMetadata(new grpc.Metadata()), { deadline: Date.now() + this.timeoutMs });
    const abort = () => call.cancel();
    signal?.addEventListener('abort', abort, { once: true });

    const out: Outcome = { text: '', body: undefined, headers: {}, forwarded: false, usage: undefined, fallbacks: [], agentState: '', agentContextId: '', agentTaskId: '' };
    try {
      await new Promise<void>((resolve, reject) => {
        call.on('data', (ev: ExecuteResponse) => {
          if (ev.delta !== undefined) out.text += ev.delta;
          else if (ev.chunk !== undefined) out.forwarded = true;
          else if (ev.usage !== undefined) {
            out.usage = ev.usage;
            // A non-streamed call (stream=false) carries its whole answer on the usage event; a forwarded call its
            // text (its chunks are relayed unparsed) and, non-streaming, the provider's JSON.
            out.text = ev.text || out.text;
            if (ev.body.length > 0) out.body = ev.body;
            out.headers = ev.headers;
          }
          else if (ev.fallback !== undefined) out.fallbacks.push(ev.fallback);
          if (ev.agentState) out.agentState = ev.agentState;
          if (ev.agentContextId) out.agentContextId = ev.agentContextId;
          if (ev.agentTaskId) out.agentTaskId = ev.agentTaskId;
          onEvent(ev);
          // The executor sends usage only on success and as its last event: the answer is complete, so finish now
          // instead of waiting for the status trailers (a separate write on the executor's side, one more hop).
          if (ev.usage !== undefined) resolve();
        });
        call.on('error', (err: grpc.ServiceError) => reject(executorError(err)));
        call.on('end', () => resolve());
      });
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    return out;
  }

  /** Resolves once the executor's channel is connected (health checks); rejects with UNAVAILABLE after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.waitForReady(Date.now() + timeoutMs, (err) =>
        err ? reject(MomaError.unavailable(`executor not reachable: ${err.message}`, err)) : resolve(),
      ),
    );
  }

  /** The executors' shared breaker and Retry-After state per provider+model (the admin dashboard). */
  providerStatus(timeoutMs = 2000): Promise<ProviderStatusResponse> {
    return new Promise((resolve, reject) =>
      this.client.providerStatus({}, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(MomaError.unavailable(`executor provider status: ${err.message}`, err)) : resolve(res),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}

const NO_BODY = Buffer.alloc(0);

/** grpc-js's own wording when no executor's socket could be used (not a provider failure an executor reported). */
const CHANNEL_DOWN = /^((round_robin|pick_first): )?(No connection established|Connection dropped|failed to connect)/i;
/** What executorError makes of a call the channel could not place on any executor (nothing was sent). */
const NOT_SENT = /^executor unreachable: ((round_robin|pick_first): )?No connection established/;
/** How long a turn waits for an executor to connect when none is (a reconnect attempt comes every 2 s at most). */
const RECONNECT_WAIT_MS = 3_000;

/**
 * Every executor instance gets calls (round robin over the addresses, or over what DNS returns for a headless
 * Service), and a call that an instance could not take or lost before it sent anything (UNAVAILABLE before the
 * response headers: the instance died, or is draining) is retried on another one. grpc-js only retries a call that
 * is not committed yet, so no answer is ever sent twice.
 */
const EXECUTOR_SERVICE_CONFIG = JSON.stringify({
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [
    {
      name: [{ service: 'moma.v1.Executor' }],
      retryPolicy: { maxAttempts: 3, initialBackoff: '0.01s', maxBackoff: '0.2s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
    },
  ],
});

/**
 * EXECUTOR_ADDR as a gRPC target: one `host:port`, a comma-separated list of `ip:port` (one channel over all of
 * them), or any gRPC target URI (`dns:///executor:50052` for a headless Service).
 */
export function executorTarget(addr: string): string {
  const list = addr.split(',').map((a) => a.trim()).filter(Boolean);
  if (list.length <= 1) return addr.trim();
  const v6 = list.every((a) => a.startsWith('['));
  return `${v6 ? 'ipv6' : 'ipv4'}:${list.join(',')}`;
}

function forwardWithHistory(forward: Record<string, unknown>, history: ChatMessage[]): Record<string, unknown> {
  if (history.length === 0 || !Array.isArray(forward.messages)) return forward;
  return { ...forward, messages: mergeConversation(forward.messages as Array<{ role: string }>, history) };
}

function executorError(err: grpc.ServiceError): MomaError {
  if (err.code === grpc.status.UNAVAILABLE && CHANNEL_DOWN.test(err.details)) {
    return MomaError.unavailable(`executor unreachable: ${err.details}`, err);
  }
  // A provider that refused the request (400, 401, 403, 404, 422) said so with its status: the client gets it.
  // When every attempt failed: 502 if the last provider answer was a 5xx, when to come back, and what was tried.
  const md = err.metadata;
  const upstream = Number(md?.get(ExecutorErrorMetadata.upstreamStatus)[0]);
  const retryAfter = Number(md?.get(ExecutorErrorMetadata.retryAfter)[0]);
  const details: Record<string, unknown> = {};
  if ((upstream >= 400 && upstream < 500) || upstream === 502) details.upstreamStatus = upstream;
  if (Number.isFinite(retryAfter) && retryAfter >= 0) details.retryAfterSeconds = retryAfter;
  const attempts = md?.get(ExecutorErrorMetadata.attempts)[0];
  if (attempts !== undefined) {
    try {
      details.attempts = JSON.parse(Buffer.from(attempts).toString('utf8'));
    } catch {
      // a malformed summary is left out rather than failing the error
    }
  }
  return new MomaError(fromGrpcStatus(err.code ?? Code.UNKNOWN), err.details || err.message, {
    cause: err,
    ...(Object.keys(details).length > 0 ? { details } : {}),
  });
}

/**
 * The targets that failed during a turn, for the session to demote: on success those the executor fell back from;
 * when every attempt failed (UNAVAILABLE, DEADLINE_EXCEEDED), the targets its error lists as tried. A refused request
 * (4xx) or a cancelled call says nothing about the models.
 */
export function failedTargetsOf(out: Outcome | undefined, err?: unknown): Target[] {
  const found: Target[] = [];
  const add = (t: Target | undefined) => {
    if (t && t.id !== '' && !found.some((f) => sameTarget(f, t))) found.push(t);
  };
  if (out) {
    out.fallbacks.forEach(add);
    out.usage?.failed.forEach(add);
  }
  if (err !== undefined) {
    const e = MomaError.from(err);
    const attempts = e.details?.attempts;
    if ((e.code === Code.UNAVAILABLE || e.code === Code.DEADLINE_EXCEEDED) && Array.isArray(attempts)) {
      for (const a of attempts as Array<{ target?: unknown; outcome?: unknown }>) {
        if (typeof a?.target !== 'string' || a.outcome === 'no_provider') continue;
        try {
          add(parseTarget(a.target, 'attempts.target'));
        } catch {
          // not a target's text: nothing to demote
        }
      }
    }
  }
  return found;
}

/**
 * Step 7: the session's question and reply, stored together, and the agent's outcome for its state machine.
 * Failures are logged, not surfaced. Resolves to the session's FSM state, or undefined when recording failed.
 */
export async function recordTurn(
  stages: Stages,
  logger: Logger,
  turn: Turn,
  decided: Decided,
  out: Outcome | undefined,
  failed: boolean,
  failedTargets: Target[] = failedTargetsOf(out),
): Promise<string | undefined> {
  try {
    const res = await stages.orchestrator.recordTurn({
      sessionId: decided.sessionId,
      // A turn that carries tool results continues the user turn before it; only a new question is stored.
      question: turn.messages.at(-1)?.role === 'user' ? turn.messages.at(-1) : undefined,
      reply: { role: 'assistant', content: out?.text ?? '' },
      chosen: decided.decision.target,
      servedBy: out?.usage?.servedBy,
      agentState: out?.agentState ?? '',
      agentContextId: out?.agentContextId ?? '',
      agentTaskId: out?.agentTaskId ?? '',
      failed,
      tenant: turn.options.tenant,
      turnId: decided.orchestration.turnId,
      failedTargets,
    });
    return res.fsmState;
  } catch (err) {
    logger.warn({ err: MomaError.from(err), sessionId: decided.sessionId }, 'recording the turn failed');
    return undefined;
  }
}
