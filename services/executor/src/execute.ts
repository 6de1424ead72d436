// Runs a decision: validate, try each ranked target in order until one answers, relay its output, account for it.
// A target that fails before producing output is skipped (a `fallback` event names it); one that fails after
// output began ends the call with an error, so the client never sees a second answer spliced onto the first.
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { Code, MomaError, type Logger } from '@moma/platform';
import { isAgent, sameTarget, targetText, validateMessages, validateSampling } from '@moma/core/rules';
import { TargetKind, type ExecuteRequest, type ExecuteResponse, type Target, type Usage } from '@moma/proto';
import { costUsd } from './accounting.ts';
import type { AgentClients } from './agent-call.ts';
import { TargetFailure } from './failure.ts';
import { callLlm, type ChatInput, type Timeouts } from './llm-call.ts';
import { forwardChat, parseForwardBody } from './llm-forward.ts';
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
}

export interface ExecutorDeps {
  providers: ProviderRegistry;
  /** How long a fetched agent card (and its A2A client) is reused. */
  agentCardTtlMs: number;
  /** Static agent id → URL directory (MOMA_AGENTS), for agents ranked without an agent_url. */
  agentUrls: Readonly<Record<string, string>>;
  timeouts: Timeouts;
  logger: Logger;
}

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

/** Provider statuses that mean the same to the client; the status itself travels as details.upstreamStatus. */
const REFUSED: Record<number, Code> = { 400: Code.INVALID_ARGUMENT, 401: Code.UNAUTHENTICATED, 403: Code.PERMISSION_DENIED, 404: Code.NOT_FOUND, 422: Code.INVALID_ARGUMENT };

function refused(f: TargetFailure): MomaError {
  return new MomaError(REFUSED[f.status ?? 400] ?? Code.INVALID_ARGUMENT, f.message, { cause: f, details: { upstreamStatus: f.status } });
}

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
    const started = performance.now();
    const failed: Target[] = [];
    const failures: string[] = [];
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

    // stream=false: an LLM's whole answer rides on the usage event (one message on the wire instead of two).
    const whole = req.stream === false;
    for (const [i, cand] of candidates.entries()) {
      let streamed = false;
      let text = '';
      const span = tracer.startSpan(`executor.call ${cand.name}`, { kind: SpanKind.CLIENT, attributes: { 'app.executor.target': cand.name } });
      try {
        const result: Attempt = await context.with(trace.setSpan(context.active(), span), () =>
          cand.kind === 'llm' && forward
            ? this.#forward(cand, req, forward, span, signal, (chunk: Buffer) => {
                streamed = true;
                emit(event({ chunk }));
              })
            : cand.kind === 'llm'
            ? this.#llm(cand, req, span, signal, (delta) => {
                if (whole) {
                  text += delta;
                  return;
                }
                streamed = true;
                emit(event({ delta }));
              })
            : this.#agent(cand, req, cand === primaryAgent, span, signal, (delta, ids) => {
                streamed = true;
                emit(event({ delta, agentState: ids.state, agentContextId: ids.contextId, agentTaskId: ids.taskId }));
              }),
        );
        const u = usage(result.promptTokens, result.completionTokens, result.cost, cand.target);
        span.setAttributes({ 'gen_ai.usage.input_tokens': u.promptTokens, 'gen_ai.usage.output_tokens': u.completionTokens });
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
        return { usage: u, ok: true };
      } catch (err) {
        const f = err instanceof TargetFailure ? err : new TargetFailure(`${cand.name}: ${(err as Error)?.message ?? err}`, { cause: err });
        span.recordException(f);
        span.setStatus({ code: SpanStatusCode.ERROR, message: f.message });
        failed.push(cand.target);
        if (f.cancelled) return { usage: usage(0, 0, 0, undefined), ok: false, error: new MomaError(Code.CANCELLED, 'call cancelled by the client') };
        if (streamed) {
          const msg = `${cand.name} failed after output began (no fallback, to avoid mixing answers): ${f.message}`;
          return { usage: usage(0, 0, 0, undefined), ok: false, error: MomaError.unavailable(msg, f) };
        }
        // The provider refused the request itself (400, 401, 403, 404, 422): another target would refuse it too.
        if (!f.retryable) return { usage: usage(0, 0, 0, undefined), ok: false, error: refused(f) };
        failures.push(`${cand.name}: ${f.message}`);
        this.#deps.logger.warn({ target: cand.name, err: f.message, next: candidates[i + 1]?.name }, 'target failed');
        if (i + 1 < candidates.length) emit(event({ fallback: cand.target }));
      } finally {
        span.end();
      }
    }
    const error = MomaError.unavailable(`all ${candidates.length} target(s) failed: ${failures.join('; ')}`);
    return { usage: usage(0, 0, 0, undefined), ok: false, error };
  }

  async #llm(cand: Candidate, req: ExecuteRequest, span: Span, signal: AbortSignal, onDelta: (t: string) => void) {
    const model = this.#model(cand, span);
    const input: ChatInput = { messages: req.messages, maxTokens: req.maxTokens, temperature: req.temperature, stream: req.stream !== false };
    const r = await callLlm(model, input, onDelta, signal, this.#deps.timeouts);
    span.setAttribute('app.executor.usage_estimated', r.estimated);
    return { ...r, cost: costUsd(r.promptTokens, r.completionTokens, model.price), state: '', contextId: '', taskId: '' };
  }

  async #forward(cand: Candidate, req: ExecuteRequest, body: Record<string, unknown>, span: Span, signal: AbortSignal, onChunk: (c: Buffer) => void) {
    const model = this.#model(cand, span);
    const r = await forwardChat(model, body, req.messages, onChunk, signal, this.#deps.timeouts);
    span.setAttribute('app.executor.usage_estimated', r.estimated);
    return { ...r, cost: costUsd(r.promptTokens, r.completionTokens, model.price), state: '', contextId: '', taskId: '' };
  }

  #model(cand: Candidate, span: Span): ResolvedModel {
    const model = this.#deps.providers.resolve(cand.id);
    if (!model) throw new TargetFailure(`no provider configured for model "${cand.id}" (add it to MOMA_PROVIDERS or add a "*" provider)`);
    span.setAttributes({ 'gen_ai.request.model': model.upstreamModel, 'app.executor.provider': model.provider, 'server.address': model.baseUrl });
    return model;
  }

  async #agent(
    cand: Candidate,
    req: ExecuteRequest,
    primary: boolean,
    span: Span,
    signal: AbortSignal,
    onDelta: (t: string, ids: { state: string; contextId: string; taskId: string }) => void,
  ) {
    const url = (primary && req.agentUrl) || this.#deps.agentUrls[cand.id];
    if (!url) throw new TargetFailure(`no URL for agent "${cand.id}" (pass agent_url or list it in MOMA_AGENTS)`);
    const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
    const turn = { text: lastUser?.content ?? '', contextId: primary ? req.agentContextId : '', taskId: primary ? req.agentTaskId : '' };
    span.setAttribute('server.address', url);
    this.#a2a ??= import('./agent-call.ts').then((m) => ({ callAgent: m.callAgent, clients: new m.AgentClients(this.#deps.agentCardTtlMs) }));
    const { callAgent, clients } = await this.#a2a;
    const r = await callAgent(clients, url, turn, onDelta, signal, this.#deps.timeouts);
    span.setAttributes({ 'app.executor.agent_state': r.state, 'app.executor.agent_task_id': r.taskId });
    return { ...r, cost: 0 };
  }
}
