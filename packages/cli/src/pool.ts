// `moma pool add|remove`: change the pool of a trained artifact without retraining it. `add` profiles a new model on
// a small anchor set (routing data with the pool's answers, e.g. from `moma profile`): the new model answers, the
// judge compares it with each model on record (both orders) and grades it against references; its quality is then
// fitted as a linear function of the trained models' predicted qualities (ridge, cross-validated) and stored in the
// artifact as a derived model, routable as soon as the artifact is published. `remove` takes a model out of the pool.
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  crossValidatedMae,
  extractQuestion,
  type Encoder,
  fitLinear,
  poolModels,
  predictEnsemble,
  routerEncoder,
  verdictScore,
  type PairVerdict,
  type RouterArtifact,
} from '@moma/core';
import { promptOf, scoreValue, type RoutingDataRow } from './data/format.ts';
import { readRoutingRows } from './data/load.ts';
import { readArtifactDir, writeArtifactDir } from './llm/artifact-files.ts';
import { semanticEncoderFor } from './llm/encoders.ts';
import { profile, selectPrompts, type Answer, type PromptInput } from './profile/profile.ts';
import { progressBar } from './progress.ts';
import { readProviders, UsageError } from './providers.ts';

const USAGE = `usage: moma pool <add|remove> MODEL --artifact DIR [options]

  moma pool add MODEL --artifact DIR --anchors PATH (--judge MODEL | --from-data) [--budget N] [--out DIR]
      profiles MODEL on at most N anchor prompts (default 200) and fits its column of the router from them, so the
      artifact routes to it without retraining. Anchors: routing data with the pool's answers (responses) and
      scores, as moma profile writes it. --from-data takes MODEL's scores from the anchors instead of profiling it.
      Provider config (prices, and the model's endpoint): --providers FILE or $MOMA_PROVIDERS.
  moma pool remove MODEL --artifact DIR [--out DIR]
      takes MODEL out of the pool (an onboarded model is dropped; a trained one is kept in the heads, never ranked)

  --out DIR   where to write the new artifact (default: DIR itself); then: moma publish --artifact DIR
  --json      pool add prints {model, anchors, mean_quality, anchor_mae, artifact, version} on stdout`;

export interface PoolIo {
  env?: Record<string, string | undefined>;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** Anchor rows (validated as moma train reads them), with the prompt and each model's recorded answer and score. */
function readAnchors(paths: readonly string[]): RoutingDataRow[] {
  try {
    return readRoutingRows(paths);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The trained models' predicted qualities on each anchor (n × M), from the artifact's encoder and heads. */
function basePredictions(artifact: RouterArtifact, rows: readonly RoutingDataRow[], semantic: Encoder | undefined): Float32Array {
  const encoder = routerEncoder(artifact, semantic);
  const M = artifact.models.length;
  const X = new Float32Array(rows.length * M);
  rows.forEach((r, i) => X.set(predictEnsemble(artifact.heads, encoder.encode(extractQuestion(promptOf(r))), M), i * M));
  return X;
}

/**
 * The new model's quality on each anchor: its grade against the reference when it has one; else implied by its
 * verdicts against models whose score on the prompt is on record (their score moved by a quarter per class step).
 */
function impliedScore(model: string, row: RoutingDataRow, recorded: RoutingDataRow): number | undefined {
  const direct = scoreValue(row.scores[model]);
  if (row.reference !== undefined && direct !== undefined) return direct;
  const implied: number[] = [];
  for (const j of row.judgements ?? []) {
    const other = j.a === model ? j.b : j.b === model ? j.a : undefined;
    const s = other !== undefined ? scoreValue(recorded.scores[other]) : undefined;
    if (other === undefined || s === undefined) continue;
    const v = verdictScore(j.label as PairVerdict) * (j.a === model ? 1 : -1);
    implied.push(Math.min(1, Math.max(0, s + v / 4)));
  }
  return implied.length > 0 ? implied.reduce((a, b) => a + b, 0) / implied.length : direct;
}

export async function runPool(argv: string[], io: PoolIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const out = io.out ?? ((l: string) => console.log(l));
  const err = io.err ?? ((l: string) => console.error(l));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        artifact: { type: 'string' },
        anchors: { type: 'string', multiple: true },
        judge: { type: 'string' },
        'from-data': { type: 'boolean', default: false },
        budget: { type: 'string', default: '200' },
        out: { type: 'string' },
        providers: { type: 'string' },
        cache: { type: 'string' },
        seed: { type: 'string', default: '7' },
        yes: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    out(USAGE);
    return 0;
  }
  const [action, model, ...rest] = positionals;
  if ((action !== 'add' && action !== 'remove') || !model || rest.length > 0 || !o.artifact) {
    err(USAGE);
    return 2;
  }
  try {
    const artifact = readArtifactDir(o.artifact);
    const dest = o.out ?? o.artifact;
    const inPool = poolModels(artifact).models.map((m) => m.id);
    const version = `${artifact.name}-pool-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
    if (action === 'remove') {
      if (!inPool.includes(model)) throw new UsageError(`${model} is not in the pool of ${artifact.version} (${inPool.join(', ')})`);
      if (inPool.length <= 2) throw new UsageError('a pool needs at least two models');
      const derived = (artifact.derived ?? []).filter((d) => d.id !== model);
      const trained = artifact.models.some((m) => m.id === model);
      const next: RouterArtifact = { ...artifact, version, derived, removed: trained ? [...(artifact.removed ?? []), model] : (artifact.removed ?? []) };
      writeArtifactDir(dest, next);
      out(`removed ${model} (${trained ? 'kept in the heads, never ranked' : 'onboarded model dropped'}); wrote ${dest}, version ${version}`);
      out(`publish it: moma publish --artifact ${dest}`);
      return 0;
    }
    if (inPool.includes(model)) throw new UsageError(`${model} is already in the pool of ${artifact.version}`);
    // A trained model taken out earlier comes back as it was.
    if (artifact.removed?.includes(model)) {
      writeArtifactDir(dest, { ...artifact, version, removed: artifact.removed.filter((m) => m !== model) });
      out(`${model} is back in the pool (it was trained, then removed); wrote ${dest}, version ${version}`);
      return 0;
    }
    if (!o.anchors?.length) throw new UsageError('pool add needs --anchors PATH (routing data with the pool\'s answers)');
    if (!o.judge && !o['from-data']) throw new UsageError('pool add needs --judge MODEL (or --from-data to use the anchors\' recorded scores)');
    const budget = Number(o.budget);
    if (!Number.isInteger(budget) || budget < 2) throw new UsageError('--budget must be a whole number ≥ 2');
    const trainedIds = artifact.models.map((m) => m.id);
    const all = readAnchors(o.anchors);
    const byId = new Map(all.map((r) => [r.id, r]));
    const inputs: PromptInput[] = all.map((r) => ({
      id: r.id,
      messages: r.messages ?? [{ role: 'user', content: r.prompt! }],
      task: r.task,
      ...(r.reference !== undefined ? { reference: r.reference } : {}),
    }));
    const usable = o['from-data'] ? inputs.filter((p) => scoreValue(byId.get(p.id)!.scores[model]) !== undefined) : inputs;
    const chosen = selectPrompts(usable, budget, Number(o.seed));
    if (chosen.length < 2) throw new UsageError(`only ${chosen.length} anchor prompts are usable for ${model}`);

    let rows: RoutingDataRow[];
    let outputTokens = 0;
    let price = { input: 0, output: 0 };
    const providers = readProviders(o.providers, env);
    const configured = providers?.find((p) => p.models.includes(model) || p.models.includes('*'));
    if (configured?.prices[model]) price = configured.prices[model]!;
    if (o['from-data']) {
      rows = chosen.map((p) => byId.get(p.id)!);
      const toks = rows.map((r) => r.tokens?.[model]?.completion).filter((t): t is number => t !== undefined);
      outputTokens = toks.length > 0 ? toks.reduce((a, b) => a + b, 0) / toks.length : 0;
      if (!configured?.prices[model]) {
        const c = rows.map((r) => r.cost_usd?.[model]).filter((v): v is number => v !== undefined);
        if (c.length === 0) throw new UsageError(`no price for ${model}: give its prices in the provider config`);
      }
    } else {
      if (!providers) throw new UsageError('no providers: give --providers FILE or set MOMA_PROVIDERS (the new model and the judge must be served)');
      if (!configured?.prices[model]) throw new UsageError(`no price for ${model} in the provider config (prices: {"${model}": {"input": …, "output": …}})`);
      // The pool's answers on record are reused; only the new model and the judge are called.
      const known = new Map<string, Map<string, Answer>>();
      for (const p of chosen) {
        const r = byId.get(p.id)!;
        const m = new Map<string, Answer>();
        for (const [id, text] of Object.entries(r.responses ?? {})) {
          if (!trainedIds.includes(id)) continue;
          m.set(id, { text, promptTokens: r.tokens?.[id]?.prompt ?? 0, completionTokens: r.tokens?.[id]?.completion ?? 0, costUsd: r.cost_usd?.[id] ?? 0 });
        }
        known.set(p.id, m);
      }
      const others = trainedIds.filter((id) => chosen.every((p) => known.get(p.id)!.has(id)));
      if (others.length === 0 && chosen.every((p) => p.reference === undefined)) {
        throw new UsageError('the anchors carry no answers of the pool\'s models (responses) and no references: nothing to judge the new model against');
      }
      const bar = progressBar(`pool add ${model}`, o.quiet);
      const res = await profile({
        prompts: chosen,
        providers,
        models: [model, ...others],
        judge: o.judge!,
        cacheDir: o.cache ?? path.join(dest, '.pool-cache'),
        concurrency: 4,
        retries: 3,
        maxTokens: 512,
        known,
        focus: model,
        onProgress: bar.update,
        confirm: async (e) => {
          err(`pool add: ${e.prompts} anchors, ${e.answerCalls - e.cachedCalls} answers to ask for, up to ${e.judgeCalls} judge calls; at most $${e.maxCostUsd.toFixed(4)}`);
          return o.yes || e.cachedCalls === e.answerCalls + e.judgeCalls;
        },
      });
      bar.stop();
      rows = res.rows;
      const toks = rows.map((r) => r.tokens?.[model]?.completion).filter((t): t is number => t !== undefined);
      outputTokens = toks.length > 0 ? toks.reduce((a, b) => a + b, 0) / toks.length : 0;
      for (const f of res.failures.slice(0, 10)) err(`pool add: failed: ${f}`);
    }
    // Its quality on each anchor, then its column: w · (trained models' predicted qualities) + b.
    const targets = rows.map((r) => impliedScore(model, r, byId.get(r.id)!));
    const keep = rows.map((_, i) => i).filter((i) => targets[i] !== undefined);
    if (keep.length < 2) throw new UsageError(`fewer than two anchors gave ${model} a score; nothing to fit`);
    const M = artifact.models.length;
    const base = basePredictions(artifact, keep.map((i) => rows[i]!), await semanticEncoderFor(artifact));
    const y = keep.map((i) => targets[i]!);
    const { weights, bias } = fitLinear(base, y, keep.length, M);
    const mae = crossValidatedMae(base, y, keep.length, M);
    const next: RouterArtifact = {
      ...artifact,
      version,
      derived: [
        ...(artifact.derived ?? []),
        { id: model, inputPricePerMTok: price.input, outputPricePerMTok: price.output, outputTokens, weights, bias, anchors: keep.length, anchorMae: Number.isFinite(mae) ? mae : 0 },
      ],
    };
    writeArtifactDir(dest, next);
    const meanY = y.reduce((a, b) => a + b, 0) / y.length;
    if (o.json) out(JSON.stringify({ model, anchors: keep.length, mean_quality: meanY, anchor_mae: mae, artifact: dest, version }));
    else {
      out(`onboarded ${model} from ${keep.length} anchors (mean quality ${meanY.toFixed(3)}); cross-validated MAE of its predicted quality on them: ${mae.toFixed(3)}`);
      out(`wrote ${dest}, version ${version}; publish it: moma publish --artifact ${dest}`);
    }
    return 0;
  } catch (e) {
    err(`moma pool: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  }
}
