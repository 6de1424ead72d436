import {
  aiq,
  apgr,
  type CostQuality,
  cpt,
  hullCostFor,
  nonDecreasingHull,
  oraclePicks,
  outcome,
  pickAtWtp,
  type RoutingModeName,
  type RoutingTable,
  singleModelPoints,
  sweepWtp,
  twoModelCurve,
  wtpGrid,
} from '@moma/core';
import type { RoutingDataset, RoutingRow } from '../data/load.ts';
import { knnPredict } from './knn.ts';
import { DEFAULT_HEADS, embed, type HeadPlan, meanCost, predictRows, routingTable, trainRouter, type TrainedRouter } from './pipeline.ts';

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
    knn: CurveSummary;
    mlp: CurveSummary;
    random: { aiq: number; quality: number; cost: number; apgr?: number };
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
  modesWtp: Record<RoutingModeName, number>;
  evals: EvalGroupResult[];
}

export interface EvalOptions {
  dim: number;
  seed: number;
  knnK: number;
  heads?: HeadPlan[];
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

/** Trains on the train split, then scores router and baselines per eval group of the test split. */
export function evaluate(ds: RoutingDataset, opts: EvalOptions): { result: EvalResult; trained: TrainedRouter } {
  const train = ds.rows.filter((r) => r.split === 'train');
  // Rows with a missing label can't be scored fairly; train masks them, evaluation drops them.
  const test = ds.rows.filter((r) => r.split === 'test' && !r.scores.some((v) => Number.isNaN(v)));
  const trained = trainRouter(ds, train, { dim: opts.dim, valFraction: 0.15, seed: opts.seed, heads: opts.heads ?? DEFAULT_HEADS, onProgress: opts.onProgress }, ds.name);
  const { encoder, artifact } = trained;
  const M = ds.models.length;
  const dim = opts.dim;
  opts.onProgress?.('embedding', 0, 3);
  const trainX = embed(encoder, train);
  const testX = embed(encoder, test);
  opts.onProgress?.('knn', 1, 3);
  const predKnn = knnPredict(trainX, train, testX, test.length, dim, M, opts.knnK);
  opts.onProgress?.('scoring', 2, 3);
  const predRouter = predictRows(artifact.heads, testX, test.length, dim, M);
  const predMlp = predictRows([trained.heads.mlp!], testX, test.length, dim, M);
  const groups = ds.evals.map((name) => {
    const idx = test.map((r, i) => [r, i] as const).filter(([r]) => ds.evalOf(r) === name).map(([, i]) => i);
    const rows: RoutingRow[] = idx.map((i) => test[i]!);
    const pick = (p: Float32Array): Float32Array => {
      const out = new Float32Array(idx.length * M);
      idx.forEach((i, j) => out.set(p.subarray(i * M, (i + 1) * M), j * M));
      return out;
    };
    const tRouter = routingTable(ds, rows, pick(predRouter));
    const tKnn = routingTable(ds, rows, pick(predKnn));
    const tMlp = routingTable(ds, rows, pick(predMlp));
    const singles = singleModelPoints(tRouter).map((p, m) => ({ model: ds.models[m]!.id, ...p }));
    const best = singles.reduce((a, b) => (b.quality > a.quality || (b.quality === a.quality && b.cost < a.cost) ? b : a));
    const oracle = outcome(tRouter, oraclePicks(tRouter));
    const random = { quality: singles.reduce((s, p) => s + p.quality, 0) / M, cost: singles.reduce((s, p) => s + p.cost, 0) / M };
    const sweeps = [tRouter, tKnn, tMlp].map((t) => sweepWtp(t, wtpGrid(meanCost(t))));
    const maxCost = Math.max(oracle.cost, ...singles.map((p) => p.cost), ...sweeps.flat().map((p) => p.cost));
    const router = summarize(tRouter, maxCost, best.quality, ds.strongWeak);
    const modes = Object.fromEntries(
      (['quality', 'balanced', 'cost'] as const).map((mode) => {
        const p = outcome(tRouter, pickAtWtp(tRouter, artifact.modes[mode]));
        return [mode, { ...p, costVsBestSingle: p.cost / best.cost }];
      }),
    ) as Record<RoutingModeName, CostQuality & { costVsBestSingle: number }>;
    const res: EvalGroupResult = {
      name,
      queries: rows.length,
      router: { ...router, modes },
      baselines: {
        zero: { aiq: aiq(singles, maxCost), points: nonDecreasingHull(singles) },
        knn: summarize(tKnn, maxCost, best.quality, ds.strongWeak),
        mlp: summarize(tMlp, maxCost, best.quality, ds.strongWeak),
        random: { aiq: aiq([random], maxCost), ...random, ...(ds.strongWeak ? { apgr: 0.5 } : {}) },
        oracle: { aiq: aiq([oracle], maxCost), ...oracle },
        bestSingle: { model: best.model, quality: best.quality, cost: best.cost },
        singles,
      },
    };
    return res;
  });
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
      modesWtp: artifact.modes,
      evals: groups,
    },
  };
}
