import {
  aiq,
  apgr,
  type CostQuality,
  cpt,
  type Encoder,
  hullCostFor,
  nonDecreasingHull,
  oraclePicks,
  routerEncoder,
  outcome,
  pickAtWtp,
  type RouterArtifact,
  type RoutingModeName,
  type RoutingTable,
  singleModelPoints,
  sweepWtp,
  twoModelCurve,
  wtpGrid,
} from '@moma/core';
import { rng } from '@moma/core/train';
import { strongerFirst, type RoutingDataset, type RoutingRow } from '../data/load.ts';
import { knnPredict } from './knn.ts';
import { multiTurnEval, type MultiTurnOptions, type MultiTurnResult } from './multiturn.ts';
import { DEFAULT_HEADS, embed, type HeadPlan, type SemanticPlan, meanCost, predictRows, routingTable, trainRouter, type TrainedRouter } from './pipeline.ts';

export interface CurveSummary {
  aiq: number;
  maxQuality: number;
  costAtBestSingleQuality: number | null;
  apgr?: number;
  cpt50?: number;
  cpt80?: number;
  points: CostQuality[];
}

export interface EvalGroupResult {
  name: string;
  queries: number;
  router: CurveSummary & { modes: Record<RoutingModeName, CostQuality & { costVsBestSingle: number }> };
  baselines: {
    zero: { aiq: number; points: CostQuality[] };
    /** kNN on the training rows' embeddings (absent when evaluating an artifact without --knn-train). */
    knn?: CurveSummary;
    /** The MLP head alone (absent when evaluating an artifact). */
    mlp?: CurveSummary;
    /** A uniformly random model per query, measured over `seeds` seeds (mean; sd = spread across seeds). */
    random: { aiq: number; quality: number; cost: number; qualitySd: number; seeds: number; apgr?: number; apgrSd?: number };
    oracle: { aiq: number; quality: number; cost: number };
    bestSingle: { model: string; quality: number; cost: number };
    singles: Array<{ model: string; quality: number; cost: number }>;
  };
}

export interface EvalResult {
  dataset: string;
  format: string;
  models: Array<{ id: string; inputPricePerMTok: number; outputPricePerMTok: number; outputTokens: number }>;
  split: { train: number; test: number };
  notes: string[];
  routerHeads: string[];
  /** Id of the features' encoder (lexical, semantic, or both fused). */
  encoder?: string;
  modesWtp: Record<RoutingModeName, number>;
  evals: EvalGroupResult[];
  /** Conversations built from the test rows, per routing policy (moma eval --turns; see multiturn.ts). */
  multiTurn?: MultiTurnResult;
}

export interface EvalOptions {
  dim: number;
  seed: number;
  knnK: number;
  heads?: HeadPlan[];
  /** Also evaluate conversations of the test rows (switches per conversation per policy). */
  multiTurn?: MultiTurnOptions;
  semantic?: SemanticPlan;
  onProgress?: (step: string, done: number, total: number) => void;
}

function summarize(t: RoutingTable, maxCost: number, bestSingleQ: number, strongWeak?: [number, number]): CurveSummary {
  const points = sweepWtp(t, wtpGrid(meanCost(t))).map(({ cost, quality }) => ({ cost, quality }));
  const hull = nonDecreasingHull(points);
  const s: CurveSummary = {
    aiq: aiq(points, maxCost),
    maxQuality: Math.max(...points.map((p) => p.quality)),
    costAtBestSingleQuality: hullCostFor(hull, bestSingleQ) ?? null,
    points: hull,
  };
  if (strongWeak) Object.assign(s, twoModel(t, strongWeak));
  return s;
}

function twoModel(t: RoutingTable, [s, w]: [number, number]): { apgr: number; cpt50: number; cpt80: number } {
  const M = t.models;
  const need = Float32Array.from({ length: t.n }, (_, i) => t.predQuality[i * M + s]! - t.predQuality[i * M + w]!);
  const strong = Float32Array.from({ length: t.n }, (_, i) => t.trueScore[i * M + s]!);
  const weak = Float32Array.from({ length: t.n }, (_, i) => t.trueScore[i * M + w]!);
  const curve = twoModelCurve(need, strong, weak);
  return { apgr: apgr(curve), cpt50: cpt(curve, 0.5), cpt80: cpt(curve, 0.8) };
}

/** The group of every test query, reported first when the data has several tasks. */
export const ALL = 'all';
/** Seeds the random-router baseline is measured over. */
export const RANDOM_SEEDS = 200;

/**
 * The random router, measured: each of RANDOM_SEEDS seeds sends every query to a uniformly random model; quality
 * and cost are the mean over seeds. For two models, APGR of a random order of queries (each seed a random
 * "strong-model need" per query), so the 0.5 it should come to is measured, not assumed.
 */
export function randomRouter(t: RoutingTable, strongWeak: [number, number] | undefined, seed: number) {
  const M = t.models;
  const qs: number[] = [];
  const cs: number[] = [];
  const apgrs: number[] = [];
  for (let s = 0; s < RANDOM_SEEDS; s++) {
    const rand = rng(seed * 1000 + s);
    let q = 0;
    let c = 0;
    for (let i = 0; i < t.n; i++) {
      const m = Math.min(M - 1, Math.floor(rand() * M));
      q += t.trueScore[i * M + m]!;
      c += t.trueCost[i * M + m]!;
    }
    qs.push(q / Math.max(t.n, 1));
    cs.push(c / Math.max(t.n, 1));
    if (strongWeak) {
      const [st, wk] = strongWeak;
      const need = Float32Array.from({ length: t.n }, () => rand());
      const strong = Float32Array.from({ length: t.n }, (_, i) => t.trueScore[i * M + st]!);
      const weak = Float32Array.from({ length: t.n }, (_, i) => t.trueScore[i * M + wk]!);
      apgrs.push(apgr(twoModelCurve(need, strong, weak)));
    }
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(v.length, 1);
  const sd = (v: number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
  return {
    quality: mean(qs),
    cost: mean(cs),
    qualitySd: sd(qs),
    seeds: RANDOM_SEEDS,
    ...(strongWeak ? { apgr: mean(apgrs), apgrSd: sd(apgrs) } : {}),
  };
}

/** Per-row predicted qualities (n × models) of the router and the learned baselines. */
export interface Predictions {
  router: Float32Array;
  knn?: Float32Array;
  mlp?: Float32Array;
}

/** The router, its modes and every baseline on each task of `test` (and on all of it when there are several). */
export function scoreGroups(ds: RoutingDataset, test: readonly RoutingRow[], preds: Predictions, modesWtp: Record<RoutingModeName, number>, seed: number): EvalGroupResult[] {
  const M = ds.models.length;
  const names = ds.evals.length > 1 ? [ALL, ...ds.evals] : ds.evals;
  return names.flatMap((name) => {
    const idx = test.map((r, i) => [r, i] as const).filter(([r]) => name === ALL || ds.evalOf(r) === name).map(([, i]) => i);
    if (idx.length === 0) return [];
    const rows: RoutingRow[] = idx.map((i) => test[i]!);
    const pick = (p: Float32Array): Float32Array => {
      const out = new Float32Array(idx.length * M);
      idx.forEach((i, j) => out.set(p.subarray(i * M, (i + 1) * M), j * M));
      return out;
    };
    const tRouter = routingTable(ds, rows, pick(preds.router));
    const tKnn = preds.knn ? routingTable(ds, rows, pick(preds.knn)) : undefined;
    const tMlp = preds.mlp ? routingTable(ds, rows, pick(preds.mlp)) : undefined;
    const singles = singleModelPoints(tRouter).map((p, m) => ({ model: ds.models[m]!.id, ...p }));
    const best = singles.reduce((a, b) => (b.quality > a.quality || (b.quality === a.quality && b.cost < a.cost) ? b : a));
    const oracle = outcome(tRouter, oraclePicks(tRouter));
    const random = randomRouter(tRouter, ds.strongWeak, seed);
    const sweeps = [tRouter, tKnn, tMlp].filter((t) => t !== undefined).map((t) => sweepWtp(t, wtpGrid(meanCost(t))));
    const maxCost = Math.max(oracle.cost, ...singles.map((p) => p.cost), ...sweeps.flat().map((p) => p.cost));
    const router = summarize(tRouter, maxCost, best.quality, ds.strongWeak);
    const modes = Object.fromEntries(
      (['quality', 'balanced', 'cost'] as const).map((mode) => {
        const p = outcome(tRouter, pickAtWtp(tRouter, modesWtp[mode]));
        return [mode, { ...p, costVsBestSingle: p.cost / best.cost }];
      }),
    ) as Record<RoutingModeName, CostQuality & { costVsBestSingle: number }>;
    const res: EvalGroupResult = {
      name,
      queries: rows.length,
      router: { ...router, modes },
      baselines: {
        zero: { aiq: aiq(singles, maxCost), points: nonDecreasingHull(singles) },
        ...(tKnn ? { knn: summarize(tKnn, maxCost, best.quality, ds.strongWeak) } : {}),
        ...(tMlp ? { mlp: summarize(tMlp, maxCost, best.quality, ds.strongWeak) } : {}),
        random: { aiq: aiq([random], maxCost), ...random },
        oracle: { aiq: aiq([oracle], maxCost), ...oracle },
        bestSingle: { model: best.model, quality: best.quality, cost: best.cost },
        singles,
      },
    };
    return [res];
  });
}

/** Trains on the train split, then scores router and baselines per eval group of the test split. */
export function evaluate(ds: RoutingDataset, opts: EvalOptions): { result: EvalResult; trained: TrainedRouter } {
  const train = ds.rows.filter((r) => r.split === 'train');
  // Rows with a missing label can't be scored fairly; train masks them, evaluation drops them.
  const test = ds.rows.filter((r) => r.split === 'test' && !r.scores.some((v) => Number.isNaN(v)));
  const trained = trainRouter(
    ds,
    train,
    { dim: opts.dim, valFraction: 0.15, seed: opts.seed, heads: opts.heads ?? DEFAULT_HEADS, onProgress: opts.onProgress, ...(opts.semantic ? { semantic: opts.semantic } : {}) },
    ds.name,
  );
  const { encoder, artifact } = trained;
  const M = ds.models.length;
  const dim = encoder.dim;
  opts.onProgress?.('embedding', 0, 3);
  const trainX = embed(encoder, train);
  const testX = embed(encoder, test);
  opts.onProgress?.('knn', 1, 3);
  const predKnn = knnPredict(trainX, train, testX, test.length, dim, M, opts.knnK);
  opts.onProgress?.('scoring', 2, 3);
  const predRouter = predictRows(artifact.heads, testX, test.length, dim, M);
  const predMlp = predictRows([trained.heads.mlp!], testX, test.length, dim, M);
  const groups = scoreGroups(ds, test, { router: predRouter, knn: predKnn, mlp: predMlp }, artifact.modes, opts.seed);
  opts.onProgress?.('done', 3, 3);
  return {
    trained,
    result: {
      dataset: ds.name,
      format: ds.format,
      models: ds.models,
      split: { train: train.length, test: test.length },
      notes: ds.notes,
      routerHeads: artifact.heads.map((h) => `${h.kind}/${h.objective}`),
      encoder: encoder.id,
      modesWtp: artifact.modes,
      evals: groups,
      ...(opts.multiTurn ? { multiTurn: multiTurnOf(ds, test, predRouter, artifact.modes, opts.multiTurn) } : {}),
    },
  };
}

export interface ArtifactEvalOptions {
  seed: number;
  knnK: number;
  /** Rows to fit the kNN baseline on (none = no kNN row); they never train the artifact. */
  knnTrain?: RoutingDataset;
  /** Which rows of the data: the test split, or all of it (a held-out file). */
  rows: 'all' | 'test';
  /** Also evaluate conversations of the rows (switches per conversation per policy). */
  multiTurn?: MultiTurnOptions;
  /** The semantic encoder the artifact records (required when it has a `semantic` section). */
  semantic?: Encoder;
}

/**
 * Scores a trained artifact on data it may never have seen, without retraining: its encoder and heads predict each
 * row, its calibrated modes choose. The pool is the models the artifact and the data share; a model only one of
 * them knows is listed in the notes (the artifact cannot route to a model it has no column for, and a model
 * without labels cannot be scored).
 */
export function evaluateArtifact(artifact: RouterArtifact, data: RoutingDataset, opts: ArtifactEvalOptions): EvalResult {
  const artIds = artifact.models.map((m) => m.id);
  const shared = data.models.map((m) => m.id).filter((id) => artIds.includes(id));
  if (shared.length < 2) {
    throw new Error(
      `the artifact (${artIds.join(', ')}) and the data (${data.models.map((m) => m.id).join(', ')}) share ${shared.length} model(s); routing needs two`,
    );
  }
  const notes = [...data.notes];
  const dataOnly = data.models.map((m) => m.id).filter((id) => !artIds.includes(id));
  const artOnly = artIds.filter((id) => !shared.includes(id));
  if (dataOnly.length > 0) notes.push(`in the data but not the artifact (not routable; see moma pool add): ${dataOnly.join(', ')}`);
  if (artOnly.length > 0) notes.push(`in the artifact but not the data (no labels, so not chosen here): ${artOnly.join(', ')}`);
  const dataCol = shared.map((id) => data.models.findIndex((m) => m.id === id));
  const artCol = shared.map((id) => artIds.indexOf(id));
  // The router believes its own prices (as in production); what a choice costs is what the data recorded.
  const models = artCol.map((j) => ({ ...artifact.models[j]! }));
  const rows = data.rows
    .filter((r) => opts.rows === 'all' || r.split === 'test')
    .map((r) => ({ ...r, scores: Float32Array.from(dataCol, (j) => r.scores[j]!), costUsd: Float32Array.from(dataCol, (j) => r.costUsd[j]!) }))
    .filter((r) => !r.scores.some((v) => Number.isNaN(v)));
  if (rows.length === 0) throw new Error(`no ${opts.rows === 'test' ? 'test ' : ''}rows with a score for every shared model`);
  const ds: RoutingDataset = { ...data, models, rows, notes };
  if (shared.length === 2) ds.strongWeak = data.strongWeak && data.models.length === 2 ? data.strongWeak : strongerFirst(rows);
  else delete ds.strongWeak;
  const encoder = routerEncoder(artifact, opts.semantic);
  const dim = encoder.dim;
  const X = embed(encoder, rows);
  const full = predictRows(artifact.heads, X, rows.length, dim, artIds.length);
  const M = shared.length;
  const router = new Float32Array(rows.length * M);
  for (let i = 0; i < rows.length; i++) artCol.forEach((j, m) => (router[i * M + m] = full[i * artIds.length + j]!));
  let knn: Float32Array | undefined;
  if (opts.knnTrain) {
    const kCol = shared.map((id) => opts.knnTrain!.models.findIndex((m) => m.id === id));
    if (kCol.some((j) => j < 0)) throw new Error('the --knn-train data must label every model the artifact and the data share');
    const train = opts.knnTrain.rows
      .filter((r) => r.split === 'train')
      .map((r) => ({ ...r, scores: Float32Array.from(kCol, (j) => r.scores[j]!), costUsd: Float32Array.from(kCol, (j) => r.costUsd[j]!) }));
    knn = knnPredict(embed(encoder, train), train, X, rows.length, dim, M, opts.knnK);
  }
  return {
    dataset: data.name,
    format: data.format,
    models,
    split: { train: 0, test: rows.length },
    notes: [`artifact ${artifact.version}, trained on ${String(artifact.training?.dataset ?? 'unknown data')}; evaluated without retraining`, ...notes],
    routerHeads: artifact.heads.map((h) => `${h.kind}/${h.objective}`),
    encoder: encoder.id,
    modesWtp: artifact.modes,
    evals: scoreGroups(ds, rows, { router, ...(knn ? { knn } : {}) }, artifact.modes, opts.seed),
    ...(opts.multiTurn ? { multiTurn: multiTurnOf(ds, rows, router, artifact.modes, opts.multiTurn) } : {}),
  };
}

/** The multi-turn section: the rows' conversations routed by the router's predictions `pred` (rows × models). */
function multiTurnOf(ds: RoutingDataset, rows: readonly RoutingRow[], pred: Float32Array, modesWtp: Record<RoutingModeName, number>, opts: MultiTurnOptions): MultiTurnResult {
  const t = routingTable(ds, rows, pred);
  return multiTurnEval(t, rows.map((r) => r.task), ds.models.map((m) => m.id), modesWtp, opts);
}
