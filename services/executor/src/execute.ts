// Runs a decision: validate, try each ranked target in order — an LLM on each provider serving it before the next
// model — until one answers, relay its output, account for it. Only a retryable failure before any output moves on
// (a `fallback` event names each target left behind); a refusal of the request itself (400, 401, 403, 404, 422)
// stops with the provider's status, and a failure after output began ends the call, so the client never sees a
// second answer spliced onto the first. Every request has at most MOMA_MAX_ATTEMPTS upstream attempts and one
// deadline (EXECUTOR_REQUEST_TIMEOUT_MS); deployments that are rate-limited or whose breaker is open are skipped
// without a call (breakers.ts).
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { Code, MomaError, type Logger } from '@moma/platform';
import { isAgent, sameTarget, targetText, validateMessages, validateSampling } from '@moma/core/rules';
import { TargetKind, type ExecuteRequest, type ExecuteResponse, type Target, type Usage } from '@moma/proto';
import { costUsd } from './accounting.ts';
import type { AgentClients } from './agent-call.ts';
import type { Breakers } from './breakers.ts';
import { BREAKER_STATE, type ExecutorMetrics } from './metrics.ts';
import type { Timeouts } from './deadline.ts';
import { TargetFailure } from './failure.ts';
import { callLlm, type ChatInput } from './llm-call.ts';
import { forwardChat, parseForwardBody } from './llm-forward.ts';
import { failedError, refusedError, type AttemptLog } from './outcome.ts';
import type { ProviderRegistry, ResolvedModel } from './providers.ts';

const tracer = trace.getTracer('@moma/executor');
export interface Candidate {
  target: Target;
  /** "llm:<model>" / "agent:<id>", for spans and messages. */
  name: string;
  kind: 'llm' | 'agent';
  id: string;
}

export interface ExecuteOutcome {
  usage: Usage;
  ok: boolean;
  error?: MomaError;
  /** Upstream calls made (skipped deployments are not calls). */
  attempts: number;
}

export interface ExecutorDeps {
  providers: ProviderRegistry;
  /** Shared Retry-After windows and circuit breakers per provider+model. */
  breakers: Breakers;
  /** How long a fetched agent card (and its A2A client) is reused. */
  agentCardTtlMs: number;
  /** Static agent id → URL directory (MOMA_AGENTS), for agents ranked without an agent_url. */
  agentUrls: Readonly<Record<string, string>>;
  /** Per attempt: first byte, stream idle, non-streaming total. */
  timeouts: Omit<Timeouts, 'deadlineAt'>;
  /** The whole request, every attempt included. */
  requestTimeoutMs: number;
  /** Upstream attempts per request, across targets and providers. */
  maxAttempts: number;
  logger: Logger;
  /** Upstream calls, skips, fallbacks, breaker states, tokens, cost, TTFT/TPOT (absent: nothing recorded). */
  metrics?: ExecutorMetrics;
}

/** Where one attempt goes: a provider's deployment of the model, or an agent's URL. */
type Deployment = { kind: 'llm'; model: ResolvedModel } | { kind: 'agent'; url: string };

/** The ranked targets (decision.target first if it is missing from the ranking), once each; bad input throws. */
export function candidatesOf(req: ExecuteRequest): Candidate[] {
  const d = req.decision;
  const targets = (d?.ranked ?? []).flatMap((c) => (c.target ? [c.target] : []));
  if (d?.target && !targets.some((t) => sameTarget(t, d.target))) targets.unshift(d.target);
  if (targets.length === 0) throw MomaError.invalidArgument('decision has no ranked targets to execute', { field: 'decision.ranked' });
  const out: Candidate[] = [];
  for (const target of targets) {
    if (out.some((c) => sameTarget(c.target, target))) continue;
    if ((target.kind !== TargetKind.TARGET_KIND_LLM && target.kind !== TargetKind.TARGET_KIND_AGENT) || target.id === '') {
      throw MomaError.invalidArgument(`target ${JSON.stringify(targetText(target))} needs a kind (LLM or agent) and an id`, { field: 'decision.ranked' });
    }
    out.push({ target, name: targetText(target), kind: isAgent(target) ? 'agent' : 'llm', id: target.id });
  }
  return out;
}

/** The executor's own door applies the same rules as the gateway's (core validateMessages / validateSampling). */
export function validateInput(req: ExecuteRequest): void {
  validateMessages(req.messages);
  validateSampling(req);
}

const EMPTY = Buffer.alloc(0);

/** What one successful attempt reports, whatever kind of target it was. */
interface Attempt {
  promptTokens: number;
  completionTokens: number;
  cost: number;
  state: string;
  contextId: string;
  taskId: string;
  /** Forwarded calls: the answer's text, the provider's JSON (non-streaming) and the headers passed on. */
  text?: string;
  body?: Buffer | undefined;
  headers?: Record<string, string>;
}

/** An event with every field the message requires, defaults for the ones not given. */
const event = (e: Partial<ExecuteResponse>): ExecuteResponse => ({
  agentState: '',
  agentContextId: '',
  agentTaskId: '',
  text: '',
  body: EMPTY,
  headers: {},
  ...e,
});

export class Executor {
  readonly #deps: ExecutorDeps;
  // The A2A SDK costs ~12 MB resident; a deployment without agents never loads it.
  #a2a: Promise<{ callAgent: typeof import('./agent-call.ts').callAgent; clients: AgentClients }> | undefined;

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
  }

  /**
   * Streams events through `emit` and resolves with the outcome; never throws for upstream failures (they are in
   * `outcome.error`), only for bad input, so the caller can account for failed calls too.
   */
  async execute(req: ExecuteRequest, emit: (ev: ExecuteResponse) => void, signal: AbortSignal): Promise<ExecuteOutcome> {
    validateInput(req);
    const candidates = candidatesOf(req);
    const forward = req.body.length > 0 ? parseForwardBody(req.body) : undefined;
    const { breakers, maxAttempts, requestTimeoutMs, metrics } = this.#deps;
    const started = performance.now();
    const timeouts: Timeouts = { ...this.#deps.timeouts, deadlineAt: started + requestTimeoutMs };
    const failed: Target[] = [];
    const log: AttemptLog = { entries: [], attempts: 0, last: undefined, stopped: undefined };
    /** Targets left behind whose `fallback` event goes out just before the next call (none when no call follows). */
    const announce: Target[] = [];
    // The agent the conversation is with gets the request's URL and A2A ids; other agents start fresh.
    const primaryAgent = candidates.find((c) => sameTarget(c.target, req.decision?.target) && c.kind === 'agent') ?? candidates.find((c) => c.kind === 'agent');
    const usage = (p: number, c: number, cost: number, servedBy: Target | undefined): Usage => ({
      promptTokens: p,
      completionTokens: c,
      costUsd: cost,
      latencyMs: performance.now() - started,
      servedBy,
      failed: [...failed],
    });
    const fail = (error: MomaError): ExecuteOutcome => ({ usage: usage(0, 0, 0, undefined), ok: false, error, attempts: log.attempts });

    // stream=false: an LLM's whole answer rides on the usage event (one message on the wire instead of two).
    const whole = req.stream === false;
    candidates: for (const cand of candidates) {
      const deployments = this.#deployments(cand, cand === primaryAgent, req);
      let touched = false;
      if (deployments.length === 0) {
        const why = cand.kind === 'llm'
          ? `no provider configured for model "${cand.id}" (add it to MOMA_PROVIDERS or add a "*" provider)`
          : `no URL for agent "${cand.id}" (pass agent_url or list it in MOMA_AGENTS)`;
        log.entries.push({ target: cand.name, provider: '', outcome: 'no_provider', message: `${cand.name}: ${why}`, until: undefined });
        touched = true;
      }
      for (const dep of deployments) {
        if (log.attempts >= maxAttempts) {
          log.stopped = 'attempts';
          if (touched) failed.push(cand.target);
          break candidates;
        }
        if (performance.now() >= timeouts.deadlineAt!) {
          log.stopped = 'deadline';
          if (touched) failed.push(cand.target);
          break candidates;
        }
        const provider = dep.kind === 'llm' ? dep.model.provider : '';
        let probe = false;
        if (dep.kind === 'llm') {
          const admission = await breakers.admit(dep.model.provider, dep.model.model);
          if (!admission.ok) {
            touched = true;
            const wait = Math.max(0, Math.ceil((admission.until - Date.now()) / 1000));
            const why = admission.reason === 'rate_limited' ? `rate-limited (Retry-After) for another ${wait} s` : `circuit breaker open for another ${wait} s`;
            log.entries.push({ target: cand.name, provider, outcome: `skipped_${admission.reason}`, message: `${cand.name}: provider ${provider} skipped: ${why}`, until: admission.until });
            trace.getActiveSpan()?.addEvent('executor.skip', { 'app.executor.target': cand.name, 'app.executor.provider': provider, 'app.executor.skip_reason': admission.reason });
            metrics?.skip(provider, dep.model.model, admission.reason);
            continue;
          }
          probe = admission.probe;
          metrics?.breaker(provider, dep.model.model, probe ? BREAKER_STATE.half_open : BREAKER_STATE.closed);
        }
        for (const t of announce.splice(0)) emit(event({ fallback: t }));
        log.attempts++;
        touched = true;
        let streamed = false;
        let text = '';
        const callStart = performance.now();
        let firstOutput: number | undefined;
        const span = tracer.startSpan(`executor.call ${cand.name}`, {
          kind: SpanKind.CLIENT,
          attributes: {
            'app.executor.target': cand.name,
            'app.executor.attempt': log.attempts,
            ...(probe ? { 'app.executor.breaker_probe': true } : {}),
            ...(dep.kind === 'llm' ? upstreamAttributes(dep.model, req) : { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': cand.id }),
          },
        });
        try {
          const result: Attempt = await context.with(trace.setSpan(context.active(), span), () =>
            dep.kind === 'llm' && forward
              ? this.#forward(dep.model, req, forward, span, signal, timeouts, (chunk: Buffer, headers?: Record<string, string>) => {
                  streamed = true;
                  if (!whole) firstOutput ??= performance.now();
                  emit(event({ chunk, ...(headers ? { headers } : {}) }));
                })
              : dep.kind === 'llm'
              ? this.#llm(dep.model, req, span, signal, timeouts, (delta) => {
                  if (whole) {
                    text += delta;
                    return;
                  }
                  streamed = true;
                  firstOutput ??= performance.now();
                  emit(event({ delta }));
                })
              : this.#agent(cand, dep.url, req, cand === primaryAgent, span, signal, timeouts, (delta, ids) => {
                  streamed = true;
                  if (!whole) firstOutput ??= performance.now();
                  emit(event({ delta, agentState: ids.state, agentContextId: ids.contextId, agentTaskId: ids.taskId }));
                }),
          );
          if (dep.kind === 'llm') breakers.success(dep.model.provider, dep.model.model);
          const u = usage(result.promptTokens, result.completionTokens, result.cost, cand.target);
          if (metrics) {
            const end = performance.now();
            const model = dep.kind === 'llm' ? dep.model.model : cand.id;
            metrics.call(dep.kind === 'llm' ? provider : 'agent', model, 'ok', (end - callStart) / 1000);
            if (dep.kind === 'llm') metrics.breaker(provider, model, BREAKER_STATE.closed);
            metrics.served(model, req.tenant, u.promptTokens, u.completionTokens, u.costUsd, callStart / 1000, firstOutput === undefined ? undefined : firstOutput / 1000, end / 1000);
          }
          span.setAttributes({
            'gen_ai.usage.input_tokens': u.promptTokens,
            'gen_ai.usage.output_tokens': u.completionTokens,
            ...(dep.kind === 'llm' ? { 'gen_ai.response.model': dep.model.upstreamModel } : {}),
          });
          emit(
            event({
              usage: u,
              agentState: result.state,
              agentContextId: result.contextId,
              agentTaskId: result.taskId,
              // The whole answer's text: a forwarded call's (its chunks are the provider's, unparsed by the gateway), or
              // that of a non-streamed one.
              text: result.text ?? text,
              body: result.body ?? EMPTY,
              headers: result.headers ?? {},
            }),
          );
          return { usage: u, ok: true, attempts: log.attempts };
        } catch (err) {
          const f = err instanceof TargetFailure ? err : new TargetFailure(`${cand.name}: ${(err as Error)?.message ?? err}`, { cause: err });
          span.recordException(f);
          span.setStatus({ code: SpanStatusCode.ERROR, message: f.message });
          if (f.status !== undefined) span.setAttribute('http.response.status_code', f.status);
          if (dep.kind === 'llm') this.#judged(dep.model, f, probe);
          if (f.cancelled) return fail(new MomaError(Code.CANCELLED, 'call cancelled by the client'));
          log.last = f;
          const outcome = outcomeOf(f, streamed);
          log.entries.push({ target: cand.name, provider, outcome, message: `${cand.name}: ${f.message}`, until: f.retryAfterMs === undefined ? undefined : Date.now() + f.retryAfterMs });
          metrics?.call(dep.kind === 'llm' ? provider : 'agent', dep.kind === 'llm' ? dep.model.model : cand.id, outcome, (performance.now() - callStart) / 1000);
          if (streamed) {
            failed.push(cand.target);
            return fail(failedError(log, candidates.length, this.#deps, cand.name));
          }
          // The provider refused the request itself (400, 401, 403, 404, 422): another target would refuse it too.
          if (!f.retryable) {
            failed.push(cand.target);
            return fail(refusedError(f, log));
          }
          if (f.timeout === 'deadline') {
            log.stopped = 'deadline';
            failed.push(cand.target);
            break candidates;
          }
          this.#deps.logger.warn({ target: cand.name, provider, err: f.message, attempt: log.attempts }, 'attempt failed');
        } finally {
          span.end();
        }
      }
      if (touched) {
        failed.push(cand.target);
        announce.push(cand.target);
        metrics?.fallback(cand.kind, log.entries.at(-1)?.outcome ?? 'error');
      }
    }
    return fail(failedError(log, candidates.length, this.#deps));
  }

  /** Breaker bookkeeping for a failed attempt: a provider that answered is up; a retryable failure counts against it. */
  #judged(model: ResolvedModel, f: TargetFailure, probe: boolean): void {
    const { breakers } = this.#deps;
    if (f.cancelled || f.timeout === 'deadline') {
      // Neither the provider's fault nor proof it works.
      if (probe) breakers.release(model.provider, model.model);
    } else if (f.status !== undefined && !f.retryable) {
      breakers.success(model.provider, model.model);
    } else {
      breakers.failure(model.provider, model.model, f.retryAfterMs);
    }
  }

  #deployments(cand: Candidate, primary: boolean, req: ExecuteRequest): Deployment[] {
    if (cand.kind === 'llm') return this.#deps.providers.resolve(cand.id).map((model) => ({ kind: 'llm', model }));
    const url = (primary && req.agentUrl) || this.#deps.agentUrls[cand.id];
    return url ? [{ kind: 'agent', url }] : [];
  }

  async #llm(model: ResolvedModel, req: ExecuteRequest, span: Span, signal: AbortSignal, timeouts: Timeouts, onDelta: (t: string) => void) {
    describe(span, model);
    const input: ChatInput = { messages: req.messages, maxTokens: req.maxTokens, temperature: req.temperature, stream: req.stream !== false };
    const r = await callLlm(model, input, onDelta, signal, timeouts);
    span.setAttribute('app.executor.usage_estimated', r.estimated);
    return { ...r, cost: costUsd(r.promptTokens, r.completionTokens, model.price), state: '', contextId: '', taskId: '' };
  }

  async #forward(model: ResolvedModel, req: ExecuteRequest, body: Record<string, unknown>, span: Span, signal: AbortSignal, timeouts: Timeouts, onChunk: (c: Buffer, headers?: Record<string, string>) => void) {
    describe(span, model);
    const r = await forwardChat(model, body, req.messages, onChunk, signal, timeouts);
    span.setAttribute('app.executor.usage_estimated', r.estimated);
    return { ...r, cost: costUsd(r.promptTokens, r.completionTokens, model.price), state: '', contextId: '', taskId: '' };
  }

  async #agent(
    cand: Candidate,
    url: string,
    req: ExecuteRequest,
    primary: boolean,
    span: Span,
    signal: AbortSignal,
    timeouts: Timeouts,
    onDelta: (t: string, ids: { state: string; contextId: string; taskId: string }) => void,
  ) {
    const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
    const turn = { text: lastUser?.content ?? '', contextId: primary ? req.agentContextId : '', taskId: primary ? req.agentTaskId : '' };
    span.setAttribute('server.address', url);
    this.#a2a ??= import('./agent-call.ts').then((m) => ({ callAgent: m.callAgent, clients: new m.AgentClients(this.#deps.agentCardTtlMs) }));
    const { callAgent, clients } = await this.#a2a;
    const r = await callAgent(clients, url, turn, onDelta, signal, timeouts);
    span.setAttributes({ 'app.executor.agent_state': r.state, 'app.executor.agent_task_id': r.taskId });
    return { ...r, cost: 0 };
  }
}

function describe(span: Span, model: ResolvedModel): void {
  span.setAttributes({ 'gen_ai.request.model': model.upstreamModel, 'app.executor.provider': model.provider, 'server.address': model.baseUrl });
}

/** The attempt's outcome as the error's summary names it (no provider text: it could echo a key). */
/** GenAI and HTTP client attributes of a call to a provider (never its key, never the prompt). */
function upstreamAttributes(m: ResolvedModel, req: ExecuteRequest): Record<string, string | number> {
  let host = '';
  let port = 0;
  try {
    const u = new URL(m.baseUrl);
    host = u.hostname;
    port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  } catch {
    // a base URL the config accepted is a URL; nothing to add otherwise
  }
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': m.provider,
    'gen_ai.request.model': m.upstreamModel,
    ...(req.maxTokens ? { 'gen_ai.request.max_tokens': req.maxTokens } : {}),
    ...(req.temperature !== undefined ? { 'gen_ai.request.temperature': req.temperature } : {}),
    'http.request.method': 'POST',
    ...(host ? { 'server.address': host, 'server.port': port } : {}),
  };
}

function outcomeOf(f: TargetFailure, streamed: boolean): string {
  if (f.timeout === 'deadline') return 'deadline';
  if (f.timeout) return `timeout_${f.timeout}`;
  if (streamed) return 'failed_after_output';
  if (f.status !== undefined) return `http_${f.status}`;
  if (f.connection) return 'connection_error';
  return 'error';
}
