// The gateway's use cases, shared by the gRPC and HTTP doors: route (decision only), chat (decide, execute, record),
// list models (cached, it also backs the `model` check), health.
import { checkTenant, hasLimits, validateTurn } from '@moma/core/rules';
import type { Bus, Logger, StageClient } from '@moma/platform';
import { Code, MomaError, stageClient } from '@moma/platform';
import {
  IntentStageDefinition,
  KeysStageDefinition,
  RoutingMode,
  type AdmitResponse,
  OrchestratorStageDefinition,
  ScoringStageDefinition,
  type ExecuteResponse,
  type ListModelsResponse,
} from '@moma/proto';
import { decide, type Decided, type Stages } from './decide.ts';
import { Auth, type CallerTurn } from './auth.ts';
import { Executor, failedTargetsOf, recordTurn, type Outcome } from './execute.ts';
import { limitHeaders } from './present.ts';
import type { GatewayMetrics } from './metrics.ts';
import { annotateRequest } from './tracing.ts';

export interface RouterOptions {
  /** MOMA_ADMIN_KEY: with it, every call needs an API key. */
  adminKey?: string;
  /** How long a key lookup is trusted (default 5 s). */
  keyCacheMs?: number;
  executorAddr: string;
  executeTimeoutMs: number;
  modelsTtlMs: number;
  /** MOMA_SWITCH_COST: the switch cost of a session turn that sets none (0 = rank every turn afresh). */
  switchCost?: number;
  /** Every decision is counted (by target, mode and reason class) and its latency observed. */
  metrics?: GatewayMetrics;
}

function dropRateLimit(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !k.toLowerCase().startsWith('x-ratelimit-')));
}

function withoutRateLimitHeaders(ev: ExecuteResponse): ExecuteResponse {
  return Object.keys(ev.headers).length === 0 ? ev : { ...ev, headers: dropRateLimit(ev.headers) };
}

export interface HealthReport {
  ok: boolean;
  checks: Record<string, string>;
}

export class GatewayRouter {
  readonly stages: Stages;
  readonly keys: StageClient<typeof KeysStageDefinition>;
  readonly auth: Auth;
  private readonly logger: Logger;
  private readonly executor: Executor;
  private readonly modelsTtlMs: number;
  private readonly executeTimeoutMs: number;
  private readonly switchCost: number;
  private readonly metrics: GatewayMetrics | undefined;
  private models: { at: number; value: Promise<ListModelsResponse> } | undefined;

  constructor(bus: Bus, logger: Logger, opts: RouterOptions) {
    this.stages = {
      intent: stageClient(bus, IntentStageDefinition),
      scoring: stageClient(bus, ScoringStageDefinition),
      orchestrator: stageClient(bus, OrchestratorStageDefinition),
    };
    this.keys = stageClient(bus, KeysStageDefinition);
    this.auth = new Auth(opts.adminKey, this.keys, opts.keyCacheMs);
    this.logger = logger;
    this.executor = new Executor(opts.executorAddr, opts.executeTimeoutMs);
    this.modelsTtlMs = opts.modelsTtlMs;
    this.executeTimeoutMs = opts.executeTimeoutMs;
    this.switchCost = opts.switchCost ?? 0;
    this.metrics = opts.metrics;
  }

  /** Starts a stateful conversation; its id goes on every later turn. */
  async createSession(tenant: string): Promise<string> {
    checkTenant(tenant);
    return (await this.stages.orchestrator.createSession({ tenant })).sessionId;
  }

  /**
   * Validates the turn (and a pinned model), counts it against the caller's limits (RESOURCE_EXHAUSTED, HTTP 429,
   * when one is full) and returns the decision. A caller near its budget is routed in cost mode, and the decision's
   * reason says so.
   */
  async route(turn: CallerTurn, turnHoldMs = 0): Promise<Decided> {
    validateTurn(turn);
    annotateRequest(turnHoldMs > 0 ? 'chat' : 'route', turn.pinnedModel, turn.sessionId);
    if (turn.pinnedModel !== '') await this.checkModel(turn.pinnedModel);
    const admitted = await this.admit(turn);
    const decided = await decide(this.stages, turn, turnHoldMs, this.switchCost);
    if (admitted) {
      decided.limits = admitted.states;
      if (admitted.costModeReason && turn.options.mode === RoutingMode.ROUTING_MODE_COST) {
        decided.decision.reason = `${admitted.costModeReason}; ${decided.decision.reason}`;
      }
    }
    this.metrics?.decision(decided.decision);
    return decided;
  }

  /** KeysStage.Admit for a caller with limits (none: no call); a refusal is RESOURCE_EXHAUSTED with Retry-After. */
  private async admit(turn: CallerTurn): Promise<AdmitResponse | undefined> {
    const c = turn.caller;
    if (!c || (!hasLimits(c.keyLimits) && !hasLimits(c.tenantLimits))) return undefined;
    const res = await this.keys.admit({ keyId: c.keyId, keyLimits: c.keyLimits, tenant: turn.options.tenant, tenantLimits: c.tenantLimits });
    if (!res.admitted) {
      const seconds = Math.max(1, Math.ceil(Number(res.retryAfterMs) / 1000));
      throw new MomaError(Code.RESOURCE_EXHAUSTED, `rate limit reached: ${res.refusedBy}; retry after ${seconds} s`, {
        details: { retryAfterSeconds: seconds, headers: { 'retry-after-ms': String(res.retryAfterMs), ...limitHeaders(res.states) }, limit: res.refusedBy },
      });
    }
    // Near its budget, a caller that has not pinned a model is routed as in cost mode.
    if (res.costModeReason && turn.pinnedModel === '') {
      turn.options.mode = RoutingMode.ROUTING_MODE_COST;
      delete turn.options.willingnessToPay;
    }
    return res;
  }

  /**
   * Decides, then streams the execution: `onDecision` runs before the first executor event (so HTTP can send
   * headers), `onEvent` for each event. `stream` false = the caller only wants the whole answer (the executor then
   * calls the upstream non-streaming and sends the whole answer on its usage event). A session's turn is recorded before this resolves, so the client's next turn
   * sees it; a stateless turn is not recorded anywhere.
   */
  async chat(
    turn: CallerTurn,
    onDecision: (d: Decided) => void,
    onEvent: (ev: ExecuteResponse) => void,
    signal?: AbortSignal,
    stream = true,
  ): Promise<{ decided: Decided; outcome: Outcome }> {
    // A session is held for the turn a little longer than its execution may take, so turns of one session are
    // answered one at a time (another turn meanwhile is 409) and a gateway that dies mid-turn frees it eventually.
    const decided = await this.route(turn, this.executeTimeoutMs + 5000);
    onDecision(decided);
    let outcome: Outcome;
    // With MoMA's limits on the caller, the x-ratelimit-* headers are MoMA's, not the provider's (the operator's account).
    const limited = decided.limits.length > 0;
    const relay = limited ? (ev: ExecuteResponse) => onEvent(withoutRateLimitHeaders(ev)) : onEvent;
    const payer = { tenant: turn.options.tenant, keyId: turn.caller?.keyId ?? '' };
    try {
      outcome = await this.executor.run(decided, turn, relay, signal, stream, payer);
      if (limited) outcome.headers = dropRateLimit(outcome.headers);
    } catch (err) {
      if (decided.sessionId !== '') await recordTurn(this.stages, this.logger, turn, decided, undefined, true, failedTargetsOf(undefined, err));
      throw err;
    }
    if (decided.sessionId !== '' && (await recordTurn(this.stages, this.logger, turn, decided, outcome, false)) === undefined) {
      // A session never lies: a whole answer is only a success with the turn in the history. A stream has already
      // sent its answer, so its final event says the turn was not recorded.
      const why = `the answer could not be recorded in session ${decided.sessionId}; the session is unchanged, send the turn again`;
      if (!stream) throw MomaError.unavailable(why);
      outcome.notRecorded = why;
    }
    return { decided, outcome };
  }

  /** The routable models from the scoring stage, cached for `modelsTtlMs` (a failed fetch is not cached). */
  listModels(): Promise<ListModelsResponse> {
    const now = Date.now();
    if (this.models && now - this.models.at < this.modelsTtlMs) return this.models.value;
    const value = this.stages.scoring.listModels({});
    const entry = { at: now, value };
    this.models = entry;
    value.catch(() => {
      if (this.models === entry) this.models = undefined;
    });
    return value;
  }

  private async checkModel(id: string): Promise<void> {
    const { models } = await this.listModels();
    if (models.some((m) => m.id === id)) return;
    const known = models.map((m) => m.id).join(', ');
    throw new MomaError(Code.NOT_FOUND, `unknown model "${id}"; use "moma/auto" or one of: ${known}`, { details: { field: 'model' } });
  }

  /** NATS + scoring (model list), orchestrator + its store (registry list) and the executor's channel, 1 s each. */
  async health(): Promise<HealthReport> {
    const checks: Record<string, string> = {};
    const probe = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        checks[name] = 'ok';
      } catch (err) {
        checks[name] = MomaError.from(err).message;
      }
    };
    await Promise.all([
      probe('scoring', () => this.stages.scoring.listModels({}, { timeoutMs: 1000 })),
      probe('orchestrator', () => this.stages.orchestrator.listAgents({ tenant: '', knownVersion: -1, pageSize: 0, pageToken: '' }, { timeoutMs: 1000 })),
      probe('executor', () => this.executor.ready(1000)),
    ]);
    return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
  }

  /** The executors' provider health (breakers, Retry-After windows), for the admin dashboard. */
  providerStatus(): ReturnType<Executor['providerStatus']> {
    return this.executor.providerStatus();
  }

  close(): void {
    this.executor.close();
  }
}
