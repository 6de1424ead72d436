// The scoring stage: ranks the configured LLMs for a query (moma.scoring.score), lists them (moma.scoring.models),
// and swaps in a new router artifact when one is announced on moma.events.artifact — without a restart.
import { FrontTally, targetText, type LlmRouter } from '@moma/core';
import { Code, counter, gauge, MomaError, serveStage, subscribeEvent, withSpan, type Metered, type ServiceContext, type ServiceHandle, type Subscription } from '@moma/platform';
import { ScoringStageDefinition, Topics } from '@moma/proto';
import { loadRouter } from './artifact.ts';
import type { ScoringConfig } from './config.ts';
import { poolOf, toChoiceOptions, toListModelsResponse, toScoreResponse, type Pool } from './options.ts';

export interface ScoringHandle extends ServiceHandle {
  /** Version of the artifact currently serving. */
  routerVersion(): string;
  /** Loads the artifact in `dir` and swaps it in; the old router keeps serving if loading fails. */
  reload(dir: string): Promise<string>;
}

export async function startScoring(
  ctx: ServiceContext & Metered,
  config: Pick<ScoringConfig, 'MOMA_ARTIFACT_DIR'> & Partial<Pick<ScoringConfig, 'MOMA_MODEL_CAPABILITIES' | 'served'>>,
): Promise<ScoringHandle> {
  const log = ctx.logger;
  const capabilities = config.MOMA_MODEL_CAPABILITIES ?? {};
  const served = config.served ?? 'any';
  // The pool is what the artifact knows and a provider serves; what only one of them knows is said at every load.
  const usePool = (r: LlmRouter): Pool => {
    const p = poolOf(r, served);
    if (p.routable.length === 0) {
      throw new MomaError(Code.FAILED_PRECONDITION, `no model of router ${r.version} (${r.models.map((m) => m.id).join(', ')}) is served by a configured provider (MOMA_PROVIDERS)`);
    }
    if (p.unserved.length > 0) log.warn({ models: p.unserved, routerVersion: r.version }, 'models the router knows but no provider serves: never routed to');
    if (p.unknown.length > 0) log.warn({ models: p.unknown, hint: `moma pool add ${p.unknown[0]}` }, 'models the providers serve that the router does not know: not routable until added (moma pool add)');
    return p;
  };
  // Loaded before serving: a scoring instance without a router must not join the queue group.
  let router: LlmRouter = await loadRouter(config.MOMA_ARTIFACT_DIR);
  let pool = usePool(router);
  // The front of the loaded router over what this instance scored (the dashboard's cost-quality plot).
  let tally = new FrontTally();
  log.info({ routerVersion: router.version, models: router.models.length, routable: pool.routable.length, dir: config.MOMA_ARTIFACT_DIR }, 'router artifact loaded');

  // Reloads run one after another, so two announcements in quick succession apply in the order they arrived.
  let reloads: Promise<unknown> = Promise.resolve();
  const reload = (dir: string): Promise<string> => {
    const next = reloads.then(async () => {
      const fresh = await loadRouter(dir);
      const freshPool = usePool(fresh);
      const previous = router.version;
      // Swapped together (no await between): a request sees the old router and pool or the new ones, never a mix.
      router = fresh;
      pool = freshPool;
      tally = new FrontTally();
      showRouter(fresh);
      log.info({ routerVersion: fresh.version, previous, dir }, 'router artifact swapped');
      return fresh.version;
    });
    reloads = next.catch(() => undefined);
    return next;
  };

  const scored = ctx.registry ? counter(ctx.registry, 'moma_scores_total', 'LLM rankings made, by routing mode (quality, balanced, cost)', ['mode']) : undefined;
  const info = ctx.registry ? gauge(ctx.registry, 'moma_router_info', 'The loaded router artifact (value 1), by version and model count', ['version', 'models']) : undefined;
  const showRouter = (r: LlmRouter) => {
    info?.reset();
    info?.set({ version: r.version, models: String(r.models.length) }, 1);
  };
  showRouter(router);

  const subs: Subscription[] = [];
  subs.push(
    await serveStage(ctx.bus, ScoringStageDefinition, {
      describeFront: async () => {
        const f = tally.summary();
        return { routerVersion: router.version, models: f.models, modes: f.modes, bestModel: f.bestModel };
      },
      score: (req) =>
        withSpan('scoring.score', { 'app.scoring.text_chars': req.text.length }, async (span) => {
          const current = router;
          const currentPool = pool;
          const options = toChoiceOptions(req.options, capabilities, current.models.map((m) => m.id), currentPool.unserved);
          try {
            const choice = current.route({ text: req.text, context: req.context }, options);
            const res = toScoreResponse(choice);
            scored?.inc({ mode: choice.mode });
            if (current === router) tally.add(choice);
            span.setAttributes({
              'app.scoring.mode': choice.mode,
              'app.scoring.target': targetText(res.ranked[0]?.target),
              'app.scoring.predicted_quality': res.ranked[0]?.predictedQuality ?? 0,
              'app.scoring.predicted_cost_usd': res.ranked[0]?.predictedCostUsd ?? 0,
              'app.scoring.candidates': res.ranked.length,
              'app.scoring.router_version': current.version,
            });
            return res;
          } catch (err) {
            // InvalidInputError (empty query, unknown model, negative cost) → INVALID_ARGUMENT with the core's message.
            throw MomaError.from(err);
          }
        }),
      listModels: async () => toListModelsResponse(router, pool),
    }),
  );
  subs.push(
    await subscribeEvent(ctx.bus, Topics.artifact, async (evt) => {
      if (!evt.path) {
        log.warn({ version: evt.version }, 'artifact announcement without a path ignored');
        return;
      }
      try {
        await reload(evt.path);
      } catch (err) {
        const e = MomaError.from(err);
        log.error({ err: e, path: evt.path, announced: evt.version, serving: router.version }, 'bad router artifact ignored; old one keeps serving');
      }
    }),
  );

  return {
    routerVersion: () => router.version,
    reload,
    async stop() {
      for (const s of subs.splice(0)) await s.unsubscribe();
      await reloads;
    },
  };
}
