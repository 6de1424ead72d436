// The intent stage: retrieves categories and agent candidates for a query (moma.intent.classify) from an
// AgentIndex built once from the registry, and rebuilt whenever the registry changes (moma.events.registry).
import type { AgentIndexOptions, Taxonomy } from '@moma/core';
import { MomaError, Subjects, withSpan, type ServiceContext, type ServiceHandle, type Subscription } from '@moma/platform';
import { ClassifyRequest, ClassifyResponse, RegistryChanged } from '@moma/proto';
import { readAgents, readRegistryVersion } from './agents.ts';
import type { IntentConfig } from './config.ts';
import { buildServingIndex, type BuildMode, type ServingIndex } from './index-host.ts';
import { loadTaxonomy } from './taxonomy.ts';

export interface IntentHandle extends ServiceHandle {
  /** Agents in the index currently serving. */
  agentCount(): number;
  /** Rebuilds the index from the Store now (also what a registry event triggers). */
  reload(): Promise<void>;
}

export interface IntentOptions {
  /** Overrides for the core index (threshold, clusters, ...); defaults are the core's. */
  index?: AgentIndexOptions;
  /** A taxonomy given in-process (embedded mode, tests); otherwise read from MOMA_TAXONOMY_FILE. */
  taxonomy?: Taxonomy;
}

type Config = Pick<IntentConfig, 'MOMA_TAXONOMY_FILE'> & Partial<Pick<IntentConfig, 'MOMA_INTENT_WORKER_MIN_AGENTS' | 'MOMA_REGISTRY_RESYNC_MS'>>;

const EMPTY: ClassifyResponse = { categories: [], candidates: [], inScope: false, threshold: 0 };

export async function startIntent(
  ctx: ServiceContext,
  config: Config,
  options: IntentOptions = {},
): Promise<IntentHandle> {
  const log = ctx.logger;
  const taxonomy = options.taxonomy ?? (config.MOMA_TAXONOMY_FILE ? await loadTaxonomy(config.MOMA_TAXONOMY_FILE) : undefined);
  const workerFrom = config.MOMA_INTENT_WORKER_MIN_AGENTS ?? 32;
  let index: ServingIndex | null = null;
  let builtVersion = -1;

  const build = async (): Promise<void> => {
    const version = await readRegistryVersion(ctx.store); // read first: a change during the build triggers another
    const agents = await readAgents(ctx.store, log);
    const mode: BuildMode = agents.length >= workerFrom ? 'worker' : 'inline';
    const next = agents.length === 0 ? null : await buildServingIndex(agents, taxonomy, options.index ?? {}, mode);
    const old = index;
    index = next; // swapped whole: a request sees the old index or the new one
    void old?.close(); // answers what it has in flight, then stops
    builtVersion = version;
    log.info({ agents: agents.length, buildMs: +(next?.buildMs ?? 0).toFixed(1), mode }, 'agent index built');
  };

  // Registry events can arrive in bursts (a batch registration); rebuilds never overlap and a burst
  // collapses into one extra rebuild that sees every change.
  let running: Promise<void> | null = null;
  let again = false;
  const reload = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await build();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };

  // Subscribe before the first build, so a change announced while it runs triggers another build, not nothing.
  const subs: Subscription[] = [];
  subs.push(
    await ctx.bus.subscribe(Subjects.eventsRegistry, RegistryChanged, async (evt) => {
      try {
        await reload();
      } catch (err) {
        log.error({ err: MomaError.from(err), op: evt.op, agentId: evt.agentId }, 'agent index rebuild failed; previous index keeps serving');
      }
    }),
  );
  try {
    await reload(); // a failure here fails boot: an intent stage that cannot read the registry must not serve
  } catch (err) {
    for (const sub of subs.splice(0)) await sub.unsubscribe();
    throw err;
  }
  subs.push(
    await ctx.bus.serve(Subjects.intentClassify, ClassifyRequest, ClassifyResponse, (req) =>
      withSpan('intent.classify', { 'app.intent.text_chars': req.text.length, 'app.intent.tenant': req.tenant }, async (span) => {
        if (!req.text.trim()) throw MomaError.invalidArgument('classify needs the user turn in text', { field: 'text' });
        const current = index;
        span.setAttribute('app.intent.agents', current?.size ?? 0);
        if (!current) {
          span.setAttribute('app.intent.in_scope', false);
          return EMPTY;
        }
        let result;
        try {
          result = await current.classify(req.text, req.context, req.topK > 0 ? req.topK : undefined);
        } catch (err) {
          throw MomaError.from(err);
        }
        const best = result.candidates[0];
        span.setAttributes({
          'app.intent.in_scope': result.inScope,
          'app.intent.category': result.categories[0]?.category ?? '',
          'app.intent.top_agent': best?.agentId ?? '',
          'app.intent.top_score': best?.score ?? 0,
          'app.intent.threshold': result.threshold,
        });
        return {
          categories: result.categories.map((c) => ({ category: c.category, score: c.score })),
          candidates: result.candidates.map((c) => ({ agentId: c.agentId, score: c.score, category: c.category })),
          inScope: result.inScope,
          threshold: result.threshold,
        };
      }),
    ),
  );

  // Safety net for a missed announcement (NATS reconnect): one GET per period, a rebuild only if the registry moved.
  const resyncMs = config.MOMA_REGISTRY_RESYNC_MS ?? 0;
  const timer =
    resyncMs > 0
      ? setInterval(() => {
          void (async () => {
            if (running || (await readRegistryVersion(ctx.store)) === builtVersion) return;
            log.warn({ builtVersion }, 'registry changed without an announcement reaching us; rebuilding');
            await reload();
          })().catch((err: unknown) => log.warn({ err: MomaError.from(err) }, 'registry resync failed'));
        }, resyncMs)
      : undefined;
  timer?.unref();

  return {
    agentCount: () => index?.size ?? 0,
    reload,
    async stop() {
      clearInterval(timer);
      for (const s of subs.splice(0)) await s.unsubscribe();
      if (running) await running.catch(() => undefined);
      await index?.close();
      index = null;
    },
  };
}
