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
import type { ProviderRegistry } from './providers.ts';

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
        const result = await context.with(trace.setSpan(context.active(), span), () =>
          cand.kind === 'llm'
            ? this.#llm(cand, req, span, signal, (delta) => {
                if (whole) {
                  text += delta;
                  return;
                }
                streamed = true;
                emit({ delta, agentState: '', agentContextId: '', agentTaskId: '', text: '' });
              })
            : this.#agent(cand, req, cand === primaryAgent, span, signal, (delta, ids) => {
                streamed = true;
                emit({ delta, agentState: ids.state, agentContextId: ids.contextId, agentTaskId: ids.taskId, text: '' });
              }),
        );
        const u = usage(result.promptTokens, result.completionTokens, result.cost, cand.target);
        span.setAttributes({ 'gen_ai.usage.input_tokens': u.promptTokens, 'gen_ai.usage.output_tokens': u.completionTokens });
        emit({ usage: u, agentState: result.state, agentContextId: result.contextId, agentTaskId: result.taskId, text });
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
        failures.push(`${cand.name}: ${f.message}`);
        this.#deps.logger.warn({ target: cand.name, err: f.message, next: candidates[i + 1]?.name }, 'target failed');
        if (i + 1 < candidates.length) emit({ fallback: cand.target, agentState: '', agentContextId: '', agentTaskId: '', text: '' });
      } finally {
        span.end();
      }
    }
    const error = MomaError.unavailable(`all ${candidates.length} target(s) failed: ${failures.join('; ')}`);
    return { usage: usage(0, 0, 0, undefined), ok: false, error };
  }

  async #llm(cand: Candidate, req: ExecuteRequest, span: Span, signal: AbortSignal, onDelta: (t: string) => void) {
    const model = this.#deps.providers.resolve(cand.id);
    if (!model) throw new TargetFailure(`no provider configured for model "${cand.id}" (add it to MOMA_PROVIDERS or add a "*" provider)`);
    span.setAttributes({ 'gen_ai.request.model': model.upstreamModel, 'app.executor.provider': model.provider, 'server.address': model.baseUrl });
    const input: ChatInput = { messages: req.messages, maxTokens: req.maxTokens, temperature: req.temperature, stream: req.stream !== false };
    const r = await callLlm(model, input, onDelta, signal, this.#deps.timeouts);
    span.setAttribute('app.executor.usage_estimated', r.estimated);
    return { ...r, cost: costUsd(r.promptTokens, r.completionTokens, model.price), state: '', contextId: '', taskId: '' };
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
