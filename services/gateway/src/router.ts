// The gateway's use cases, shared by the gRPC and HTTP doors: route (decision only), chat (decide, execute, record),
// list models (cached, it also backs the `model` check), health.
import { checkTenant, validateTurn, type Turn } from '@moma/core/rules';
import type { Bus, Logger, StageClient } from '@moma/platform';
import { Code, MomaError, stageClient } from '@moma/platform';
import {
  IntentStageDefinition,
  KeysStageDefinition,
  OrchestratorStageDefinition,
  ScoringStageDefinition,
  type ExecuteResponse,
  type ListModelsResponse,
} from '@moma/proto';
import { decide, type Decided, type Stages } from './decide.ts';
import { Auth } from './auth.ts';
import { Executor, recordTurn, type Outcome } from './execute.ts';

export interface RouterOptions {
  /** MOMA_ADMIN_KEY: with it, every call needs an API key. */
  adminKey?: string;
  /** How long a key lookup is trusted (default 5 s). */
  keyCacheMs?: number;
  executorAddr: string;
  executeTimeoutMs: number;
  modelsTtlMs: number;
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
  }

  /** Starts a stateful conversation; its id goes on every later turn. */
  async createSession(tenant: string): Promise<string> {
    checkTenant(tenant);
    return (await this.stages.orchestrator.createSession({ tenant })).sessionId;
  }

  /** Validates the turn (and a pinned model) and returns the decision; a session's user turn is recorded. */
  async route(turn: Turn): Promise<Decided> {
    validateTurn(turn);
    if (turn.pinnedModel !== '') await this.checkModel(turn.pinnedModel);
    return decide(this.stages, turn);
  }

  /**
   * Decides, then streams the execution: `onDecision` runs before the first executor event (so HTTP can send
   * headers), `onEvent` for each event. `stream` false = the caller only wants the whole answer (the executor then
   * calls the upstream non-streaming and sends the whole answer on its usage event). A session's turn is recorded before this resolves, so the client's next turn
   * sees it; a stateless turn is not recorded anywhere.
   */
  async chat(
    turn: Turn,
    onDecision: (d: Decided) => void,
    onEvent: (ev: ExecuteResponse) => void,
    signal?: AbortSignal,
    stream = true,
  ): Promise<{ decided: Decided; outcome: Outcome }> {
    const decided = await this.route(turn);
    onDecision(decided);
    let outcome: Outcome;
    try {
      outcome = await this.executor.run(decided, turn, onEvent, signal, stream);
    } catch (err) {
      if (decided.sessionId !== '') await recordTurn(this.stages, this.logger, turn, decided, undefined, true);
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

  close(): void {
    this.executor.close();
  }
}
