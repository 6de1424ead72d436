// The intent stage (IntentStage in proto/moma/v1/stages.proto): retrieves categories and agent candidates for a
// query from an AgentIndex built from its copy of the agent registry, and rebuilt whenever that copy changes. The
// copy comes from the orchestrator, the registry's owner, over the bus (registry-copy.ts): intent reads no Redis.
import type { AgentIndexOptions, Taxonomy } from '@moma/core';
import { counter, gauge, MomaError, serveStage, stageClient, subscribeEvent, withSpan, type Metered, type ServiceContext, type ServiceHandle, type Subscription } from '@moma/platform';
import { IntentStageDefinition, OrchestratorStageDefinition, Topics, type ClassifyResponse } from '@moma/proto';
import { RegistryCopy } from './registry-copy.ts';
import type { IntentConfig } from './config.ts';
import { buildServingIndex, type BuildMode, type ServingIndex } from './index-host.ts';
import { loadTaxonomy } from './taxonomy.ts';
import { loadStaticEncoder, loadUseModel, SemanticCache } from '@moma/semantic';

export interface IntentHandle extends ServiceHandle {
  /** Agents in the index currently serving. */
  agentCount(): number;
  /** Rebuilds the index from the registry copy now (also what a registry change triggers). */
  reload(): Promise<void>;
  /** The registry version the copy holds (-1 until the first snapshot arrived). */
  registryVersion(): number;
  /** The serving index: its encoder, and whether its fit was loaded from MOMA_AGENT_INDEX_DIR (null = none yet). */
  indexInfo(): { encoder: string; loaded: boolean; buildMs: number } | null;
}

export interface IntentOptions {
  /** Overrides for the core index (threshold, clusters, ...); defaults are the core's. */
  index?: AgentIndexOptions;
  /** A taxonomy given in-process (embedded mode, tests); otherwise read from MOMA_TAXONOMY_FILE. */
  taxonomy?: Taxonomy;
}

type Config = Pick<IntentConfig, 'MOMA_TAXONOMY_FILE'> &
  Partial<Pick<IntentConfig, 'MOMA_INTENT_WORKER_MIN_AGENTS' | 'MOMA_REGISTRY_RESYNC_MS' | 'MOMA_AGENT_ENCODER' | 'MOMA_AGENT_INDEX_DIR' | 'MOMA_AGENT_FAST_PATH' | 'MOMA_AGENT_FAST_REJECT' | 'MOMA_AGENT_STATIC_PATH'>>;

const EMPTY: ClassifyResponse = { categories: [], candidates: [], inScope: false, threshold: 0 };

export async function startIntent(
  ctx: ServiceContext & Metered,
  config: Config,
  options: IntentOptions = {},
): Promise<IntentHandle> {
  const log = ctx.logger;
  const taxonomy = options.taxonomy ?? (config.MOMA_TAXONOMY_FILE ? await loadTaxonomy(config.MOMA_TAXONOMY_FILE) : undefined);
  const workerFrom = config.MOMA_INTENT_WORKER_MIN_AGENTS ?? 32;
  const registry = new RegistryCopy(stageClient(ctx.bus, OrchestratorStageDefinition));
  let index: ServingIndex | null = null;
  // the full encoder is loaded once per process and only when configured (~75 MB resident once it has answered: tfjs,
  // the weights and XNNPACK's packed copy of them); card texts are embedded by the fit's worker when there is one
  // unset means the config's default (use), as for a service started from its environment
  const semantic = (config.MOMA_AGENT_ENCODER ?? 'use') === 'use' ? new SemanticCache(await loadUseModel()) : undefined;
  // and, when MOMA_AGENT_STATIC_PATH asks for it, its static distillation as a middle path (a 4 MB table; intent with
  // 150 agents after 200 queries: 193 → 199–200 MB resident, at the budget, and ~2 s more fit: off by default)
  const staticBar = config.MOMA_AGENT_STATIC_PATH;
  const staticSemantic = semantic && staticBar !== undefined && staticBar <= 1 ? await loadStaticEncoder() : undefined;
  const cardVectors = new Map<string, Float32Array>();
  if (semantic) log.info({ encoder: semantic.id }, 'semantic encoder loaded');

  const indexOptions: AgentIndexOptions = {
    ...(config.MOMA_AGENT_FAST_PATH !== undefined ? { fastPath: config.MOMA_AGENT_FAST_PATH } : {}),
    ...(config.MOMA_AGENT_FAST_REJECT !== undefined ? { fastReject: config.MOMA_AGENT_FAST_REJECT } : {}),
    ...(staticSemantic ? { staticSemantic, staticPath: staticBar } : {}),
    ...options.index,
  };
  const indexAgents = ctx.registry ? gauge(ctx.registry, 'moma_intent_index_agents', 'Agents in the serving index (0 until the first index is built)', []) : undefined;
  indexAgents?.set(0);
  const build = async (): Promise<void> => {
    const version = registry.version;
    const agents = registry.specs();
    const mode: BuildMode = agents.length >= workerFrom ? 'worker' : 'inline';
    const next =
      agents.length === 0
        ? null
        : await buildServingIndex(agents, taxonomy, indexOptions, mode, {
            ...(semantic ? { semantic, cardVectors } : {}),
            ...(config.MOMA_AGENT_INDEX_DIR ? { dir: config.MOMA_AGENT_INDEX_DIR } : {}),
          });
    const old = index;
    index = next; // swapped whole: a request sees the old index or the new one
    indexAgents?.set(next?.size ?? 0);
    void old?.close(); // answers what it has in flight, then stops
    log.info({ agents: agents.length, version, buildMs: +(next?.buildMs ?? 0).toFixed(1), mode, loaded: next?.loaded ?? false, encoder: semantic?.id ?? 'lexical' }, 'agent index built');
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

  const rebuild = (why: string) =>
    reload().catch((err: unknown) => log.error({ err: MomaError.from(err), why }, 'agent index rebuild failed; previous index keeps serving'));
  // Snapshot when the copy may be behind; a failure (orchestrator not up yet, NATS away) is retried by the caller.
  const sync = async (): Promise<void> => {
    if (await registry.sync()) await rebuild('snapshot');
  };

  // Subscribe before the first snapshot, so a change announced meanwhile is applied after it rather than lost.
  const subs: Subscription[] = [];
  subs.push(
    await subscribeEvent(ctx.bus, Topics.registry, async (evt) => {
      const applied = registry.apply(evt);
      if (applied === 'applied') await rebuild(`registry ${evt.agentId}`);
      else if (applied === 'gap') await sync().catch((err: unknown) => log.warn({ err: MomaError.from(err) }, 'registry snapshot failed'));
    }),
  );
  // The first snapshot is taken in the background, retried until the orchestrator answers: stages start in any
  // order, and until then every query goes to LLM routing (no agent candidates).
  let stopped = false;
  let bootTimer: NodeJS.Timeout | undefined;
  const firstSnapshot = (delayMs: number): void => {
    sync().then(
      () => log.info({ agents: registry.specs().length, version: registry.version }, 'agent registry snapshot loaded'),
      (err: unknown) => {
        if (stopped) return;
        log.warn({ err: MomaError.from(err), retryInMs: delayMs }, 'agent registry snapshot failed; retrying');
        bootTimer = setTimeout(() => firstSnapshot(Math.min(delayMs * 2, 5000)), delayMs);
        bootTimer.unref();
      },
    );
  };
  firstSnapshot(100);

  const classified = ctx.registry
    ? counter(ctx.registry, 'moma_intent_classifications_total', 'Classified user turns, by the path that answered (fast, fast-reject, static, semantic, lexical; no_agents when none is registered) and whether an agent was in scope', ['path', 'in_scope'])
    : undefined;
  subs.push(
    await serveStage(ctx.bus, IntentStageDefinition, {
      classify: (req) =>
        withSpan('intent.classify', { 'app.intent.text_chars': req.text.length, 'app.intent.tenant': req.tenant }, async (span) => {
          if (!req.text.trim()) throw MomaError.invalidArgument('classify needs the user turn in text', { field: 'text' });
          const current = index;
          span.setAttribute('app.intent.agents', current?.size ?? 0);
          if (!current) {
            classified?.inc({ path: 'no_agents', in_scope: 'false' });
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
          classified?.inc({ path: result.path ?? 'lexical', in_scope: result.inScope ? 'true' : 'false' });
          span.setAttributes({
            'app.intent.in_scope': result.inScope,
            'app.intent.category': result.categories[0]?.category ?? '',
            'app.intent.top_agent': best?.agentId ?? '',
            'app.intent.top_score': best?.score ?? 0,
            'app.intent.threshold': result.threshold,
            ...(result.path ? { 'app.intent.path': result.path } : {}),
          });
          return {
            categories: result.categories.map((c) => ({ category: c.category, score: c.score })),
            candidates: result.candidates.map((c) => ({ agentId: c.agentId, score: c.score, category: c.category, turnScore: c.turnScore })),
            inScope: result.inScope,
            threshold: result.threshold,
          };
        }),
    }),
  );

  // Safety net for a missed announcement (NATS reconnect): a version check per period, a snapshot only if it moved.
  const resyncMs = config.MOMA_REGISTRY_RESYNC_MS ?? 0;
  const timer =
    resyncMs > 0
      ? setInterval(() => {
          if (!registry.loaded || running) return;
          const before = registry.version;
          sync().then(
            () => registry.version !== before && log.warn({ before, now: registry.version }, 'registry changed without an announcement reaching us; rebuilt'),
            (err: unknown) => log.warn({ err: MomaError.from(err) }, 'registry resync failed'),
          );
        }, resyncMs)
      : undefined;
  timer?.unref();

  return {
    agentCount: () => index?.size ?? 0,
    reload,
    registryVersion: () => registry.version,
    indexInfo: () => (index ? { encoder: semantic?.id ?? 'lexical', loaded: index.loaded, buildMs: index.buildMs } : null),
    async stop() {
      stopped = true;
      clearTimeout(bootTimer);
      clearInterval(timer);
      for (const s of subs.splice(0)) await s.unsubscribe();
      if (running) await running.catch(() => undefined);
      await index?.close();
      index = null;
    },
  };
}
