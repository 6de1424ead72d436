// The orchestrator stage (OrchestratorStage in proto/moma/v1/stages.proto): the agent registry and the sessions,
// the only owner of their Redis keys. Every instance keeps an in-memory copy of the registry, updated by each
// RegistryChanged announcement, so a turn costs one session read (and a write only when its state moves).
import { consumeEvent, MomaError, withEventSpans, serveStage, subscribeEvent, withSpan, type Metered, type ServiceContext, type ServiceHandle, type Subscription } from '@moma/platform';
import { KeysStageDefinition, OrchestratorStageDefinition, Topics, type RecordTurnRequest } from '@moma/proto';
import { CardFetcher, type Resolver } from './card-fetch.ts';
import { KeyStore } from './keys.ts';
import { LimitStore } from './limits.ts';
import { OrchestratorMetrics } from './metrics.ts';
import type { OrchestratorConfig } from './config.ts';
import { AgentRegistry } from './registry.ts';
import { createSession, decideTurn, listSessions, recordTurn, type TurnDeps } from './turns.ts';
import { targetText } from '@moma/core';

/**
 * Durable JetStream consumer of the usage events (each batch once across the orchestrators); the KEDA
 * ScaledObject of deploy/k8s/components/keda scales the orchestrator on its lag.
 */
export const USAGE_CONSUMER = 'orchestrator-usage';

export interface OrchestratorHandle extends ServiceHandle {
  registry: AgentRegistry;
}

export interface OrchestratorOptions {
  /** Host name resolver for card_url fetches (tests); default the system's. */
  resolve?: Resolver;
}

const recordAttributes = (req: RecordTurnRequest) => ({
  'app.orchestrator.session_id': req.sessionId,
  'session.id': req.sessionId,
  'app.orchestrator.served_by': targetText(req.servedBy),
  'app.orchestrator.agent_state': req.agentState,
  'app.orchestrator.failed': req.failed,
});

type Config = Pick<OrchestratorConfig, 'SESSION_TTL_SECONDS' | 'AGENT_CARD_TIMEOUT_MS' | 'SESSION_MAX_MESSAGES'> &
  Partial<Pick<OrchestratorConfig, 'MOMA_REGISTRY_RESYNC_MS' | 'MOMA_CARD_FETCH_ALLOW' | 'MOMA_AGENT_TURN_MARGIN'>>;

export async function startOrchestrator(ctx: ServiceContext & Metered, config: Config, options: OrchestratorOptions = {}): Promise<OrchestratorHandle> {
  const log = ctx.logger;
  const cards = new CardFetcher({
    timeoutMs: config.AGENT_CARD_TIMEOUT_MS,
    allow: config.MOMA_CARD_FETCH_ALLOW ?? [],
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const registry = new AgentRegistry({
    store: ctx.store,
    bus: ctx.bus,
    logger: log,
    cards,
  });
  const metrics = ctx.registry ? new OrchestratorMetrics(ctx.registry) : undefined;
  const deps: TurnDeps = {
    store: ctx.store,
    registry,
    sessionTtlSeconds: config.SESSION_TTL_SECONDS,
    maxMessages: config.SESSION_MAX_MESSAGES,
    ...(config.MOMA_AGENT_TURN_MARGIN !== undefined ? { policy: { turnMargin: config.MOMA_AGENT_TURN_MARGIN } } : {}),
    ...(metrics ? { onTransition: (from: string, to: string) => metrics.transition(from, to), onHandoff: (by: string) => metrics.handoff(by) } : {}),
  };

  const subs: Subscription[] = [];
  // Subscribe before loading, so a change made while we load is applied after it rather than lost.
  subs.push(await subscribeEvent(ctx.bus, Topics.registry, (evt) => registry.applyChange(evt)));
  await registry.load();
  log.info({ agents: registry.size }, 'agent registry loaded');

  subs.push(
    await serveStage(ctx.bus, OrchestratorStageDefinition, {
      decide: (req) =>
        withSpan('orchestrator.decide', { 'app.orchestrator.session_id': req.sessionId, ...(req.sessionId ? { 'session.id': req.sessionId } : {}), 'app.orchestrator.tenant': req.tenant }, async (span) => {
          const res = await decideTurn(deps, req);
          metrics?.decided(res.agentId !== '');
          span.setAttributes({
            'app.orchestrator.agent_id': res.agentId,
            'app.orchestrator.fsm_state': res.fsmState,
            'app.orchestrator.masked': res.masked.map((m) => `${m.agentId}: ${m.reason}`),
            'app.orchestrator.reason': res.reason,
          });
          return res;
        }),
      recordTurn: (req) =>
        withSpan('orchestrator.record_turn', recordAttributes(req), async (span) => {
          const res = await recordTurn(deps, req);
          span.setAttributes({ 'app.orchestrator.fsm_state': res.fsmState, 'app.orchestrator.session_version': res.version });
          return res;
        }),
      createSession: (req) =>
        withSpan('orchestrator.create_session', { 'app.orchestrator.tenant': req.tenant }, async (span) => {
          const res = await createSession(deps, req);
          span.setAttribute('app.orchestrator.session_id', res.sessionId);
          return res;
        }),
      registerAgent: (req) =>
        withSpan('orchestrator.register_agent', { 'app.orchestrator.card_source': req.cardUrl ? 'url' : 'json' }, async (span) => {
          const agent = await registry.register(req);
          span.setAttribute('app.orchestrator.agent_id', agent.id);
          return { agent };
        }),
      updateAgent: (req) =>
        withSpan('orchestrator.update_agent', { 'app.orchestrator.agent_id': req.id }, async () => ({ agent: await registry.update(req) })),
      removeAgent: (req) =>
        withSpan('orchestrator.remove_agent', { 'app.orchestrator.agent_id': req.id }, async () => ({ removed: await registry.remove(req) })),
      listAgents: (req) => registry.list(req.tenant, req.knownVersion, { size: req.pageSize, token: req.pageToken }),
      listSessions: (req) => withSpan('orchestrator.list_sessions', { 'app.orchestrator.tenant': req.tenant }, () => listSessions(deps, req)),
    }),
  );
  const limits = new LimitStore(ctx.store);
  const keys = new KeyStore(ctx.store, limits);
  subs.push(
    await serveStage(ctx.bus, KeysStageDefinition, {
      createKey: (req) => keys.create(req),
      listKeys: (req) => keys.list(req.tenant),
      revokeKey: (req) => keys.revoke(req.id),
      verifyKey: (req) => keys.verify(req.secretSha256),
      setTenantLimits: (req) => limits.setTenantLimits(req),
      admit: async (req) => {
        const res = await limits.admit(req);
        metrics?.admitted(res, (holder) => (holder === 'key' ? req.keyId : req.tenant));
        return res;
      },
      getUsage: (req) => limits.usage(req),
    }),
  );
  // Spend and tokens come from what the executor measured: each usage batch once across orchestrator instances.
  subs.push(await consumeEvent(ctx.bus, Topics.usage, USAGE_CONSUMER, (batch, id) =>
    withEventSpans(Topics.usage.subject, batch.events.map((e) => e.traceparent), () => limits.charge(batch, id)).then(() => undefined),
  ));

  // Safety net for a missed announcement (NATS reconnect): one GET per period, a reload only if the registry moved.
  const resyncMs = config.MOMA_REGISTRY_RESYNC_MS ?? 0;
  const timer =
    resyncMs > 0
      ? setInterval(() => {
          registry.resync().then(
            (reloaded) => reloaded && log.warn({ agents: registry.size }, 'registry changed without an announcement reaching us; reloaded'),
            (err: unknown) => log.warn({ err: MomaError.from(err) }, 'registry resync failed'),
          );
        }, resyncMs)
      : undefined;
  timer?.unref();

  return {
    registry,
    async stop() {
      clearInterval(timer);
      for (const s of subs.splice(0)) await s.unsubscribe();
      await cards.close();
    },
  };
}
