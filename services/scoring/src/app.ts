// The scoring stage: ranks the configured LLMs for a query (moma.scoring.score), lists them (moma.scoring.models),
// and swaps in a new router artifact when one is announced on moma.events.artifact — without a restart.
import { targetText, type LlmRouter } from '@moma/core';
import { MomaError, serveStage, subscribeEvent, withSpan, type ServiceContext, type ServiceHandle, type Subscription } from '@moma/platform';
import { ScoringStageDefinition, Topics } from '@moma/proto';
import { loadRouter } from './artifact.ts';
import type { ScoringConfig } from './config.ts';
import { toChoiceOptions, toListModelsResponse, toScoreResponse } from './options.ts';

export interface ScoringHandle extends ServiceHandle {
  /** Version of the artifact currently serving. */
  routerVersion(): string;
  /** Loads the artifact in `dir` and swaps it in; the old router keeps serving if loading fails. */
  reload(dir: string): Promise<string>;
}

export async function startScoring(
  ctx: ServiceContext,
  config: Pick<ScoringConfig, 'MOMA_ARTIFACT_DIR'> & Partial<Pick<ScoringConfig, 'MOMA_MODEL_CAPABILITIES'>>,
): Promise<ScoringHandle> {
  const log = ctx.logger;
  const capabilities = config.MOMA_MODEL_CAPABILITIES ?? {};
  // Loaded before serving: a scoring instance without a router must not join the queue group.
  let router: LlmRouter = await loadRouter(config.MOMA_ARTIFACT_DIR);
  log.info({ routerVersion: router.version, models: router.models.length, dir: config.MOMA_ARTIFACT_DIR }, 'router artifact loaded');

  // Reloads run one after another, so two announcements in quick succession apply in the order they arrived.
  let reloads: Promise<unknown> = Promise.resolve();
  const reload = (dir: string): Promise<string> => {
    const next = reloads.then(async () => {
      const fresh = await loadRouter(dir);
      const previous = router.version;
      router = fresh; // one assignment: a request sees the old router or the new one, never a mix
      log.info({ routerVersion: fresh.version, previous, dir }, 'router artifact swapped');
      return fresh.version;
    });
    reloads = next.catch(() => undefined);
    return next;
  };

  const subs: Subscription[] = [];
  subs.push(
    await serveStage(ctx.bus, ScoringStageDefinition, {
      score: (req) =>
        withSpan('scoring.score', { 'app.scoring.text_chars': req.text.length }, async (span) => {
          const current = router;
          const options = toChoiceOptions(req.options, capabilities, current.models.map((m) => m.id));
          try {
            const choice = current.route({ text: req.text, context: req.context }, options);
            const res = toScoreResponse(choice);
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
      listModels: async () => toListModelsResponse(router),
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
