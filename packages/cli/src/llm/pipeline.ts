import {
  aiq,
  countTokens,
  type Encoder,
  extractQuestion,
  FusedEncoder,
  HashingEncoder,
  type HeadSpec,
  predictCostUsd,
  predictEnsemble,
  type RouterArtifact,
  type RoutingModeName,
  type RoutingTable,
  singleModelPoints,
  sweepWtp,
  wtpGrid,
} from '@moma/core';
import { rng, trainHead, type TrainOptions, type TrainSet } from '@moma/core/train';
import type { RoutingDataset, RoutingRow } from '../data/load.ts';

export interface HeadPlan {
  name: string;
  train: Omit<TrainOptions, 'validation' | 'onEpoch'>;
  weight?: number;
}

/** A semantic encoder to fuse with the lexical one, and its weight in (0, 1] (1 = the semantic vector alone). */
export interface SemanticPlan {
  encoder: Encoder;
  weight: number;
}

export interface PipelineOptions {
  /** Buckets of the lexical (hashing) encoder. */
  dim: number;
  semantic?: SemanticPlan;
  valFraction: number;
  seed: number;
  heads: HeadPlan[];
  onProgress?: (step: string, done: number, total: number) => void;
}

/** Candidate heads; selectEnsemble keeps the subset that does best on validation. */
export const DEFAULT_HEADS: HeadPlan[] = [
  { name: 'linear', train: { kind: 'linear', objective: 'pointwise', epochs: 30, patience: 4, learningRate: 1e-2, l2: 1e-5 } },
  { name: 'mlp', train: { kind: 'mlp', objective: 'pointwise', hidden: 64, epochs: 30, patience: 4, learningRate: 3e-3, l2: 1e-5 } },
  { name: 'mlp-pairwise', train: { kind: 'mlp', objective: 'pairwise', hidden: 64, epochs: 30, patience: 4, learningRate: 3e-3, l2: 1e-4 } },
  { name: 'moe-pairwise', train: { kind: 'moe', objective: 'pairwise', hidden: 64, experts: 4, epochs: 30, patience: 4, learningRate: 3e-3, l2: 1e-4 } },
];

export function embed(encoder: Encoder, rows: readonly RoutingRow[]): Float32Array {
  const X = new Float32Array(rows.length * encoder.dim);
  rows.forEach((r, i) => X.set(encoder.encode(extractQuestion(r.prompt)), i * encoder.dim));
  return X;
}

export function toTrainSet(X: Float32Array, rows: readonly RoutingRow[], dim: number, models: number): TrainSet {
  const Y = new Float32Array(rows.length * models);
  rows.forEach((r, i) => Y.set(r.scores, i * models));
  return { n: rows.length, dim, models, X, Y };
}

/** Predicted quality and cost, true score and cost for rows, given per-row predictions. */
export function routingTable(ds: RoutingDataset, rows: readonly RoutingRow[], pred: Float32Array): RoutingTable {
  const M = ds.models.length;
  const predCost = new Float32Array(rows.length * M);
  const trueScore = new Float32Array(rows.length * M);
  const trueCost = new Float32Array(rows.length * M);
  rows.forEach((r, i) => {
    const tokens = countTokens(r.prompt);
    ds.models.forEach((m, j) => {
      predCost[i * M + j] = predictCostUsd(m, tokens);
      trueScore[i * M + j] = Number.isNaN(r.scores[j]!) ? 0 : r.scores[j]!;
      trueCost[i * M + j] = Number.isNaN(r.costUsd[j]!) ? predCost[i * M + j]! : r.costUsd[j]!;
    });
  });
  return { n: rows.length, models: M, predQuality: pred, predCost, trueScore, trueCost };
}

export function predictRows(heads: readonly HeadSpec[], X: Float32Array, n: number, dim: number, models: number): Float32Array {
  const out = new Float32Array(n * models);
  for (let i = 0; i < n; i++) out.set(predictEnsemble(heads, X.subarray(i * dim, (i + 1) * dim), models), i * models);
  return out;
}

export function meanCost(t: RoutingTable): number {
  let s = 0;
  for (let i = 0; i < t.trueCost.length; i++) s += t.trueCost[i]!;
  return s / Math.max(t.trueCost.length, 1);
}

const FINITE_MAX_WTP = 1e6;

/**
 * Mode presets from the validation sweep. quality = the cheapest point whose quality reaches both the best single
 * model's validation quality (the quality-mode target: never worse than always sending to the best model) and
 * the best swept quality less half a point; if no point reaches the best single model, the best swept point.
 * balanced = cheapest reaching 85% of the way from the cheapest point to the best; cost = 50% of the way.
 */
export function calibrateModes(t: RoutingTable): Record<RoutingModeName, number> {
  const pts = sweepWtp(t, wtpGrid(meanCost(t)));
  const qmax = Math.max(...pts.map((p) => p.quality));
  const bestSingle = Math.max(...singleModelPoints(t).map((p) => p.quality));
  const cheapest = pts.reduce((a, b) => (b.cost < a.cost ? b : a));
  const at = (q: number): number => {
    const ok = pts.filter((p) => p.quality >= q - 1e-9).sort((a, b) => a.cost - b.cost || b.wtp - a.wtp);
    const w = ok[0]?.wtp ?? Infinity;
    return Number.isFinite(w) ? w : FINITE_MAX_WTP;
  };
  return {
    quality: at(Math.min(qmax, Math.max(bestSingle, qmax - 0.005))),
    balanced: at(cheapest.quality + 0.85 * (qmax - cheapest.quality)),
    cost: at(cheapest.quality + 0.5 * (qmax - cheapest.quality)),
  };
}

export function splitTrainVal(rows: readonly RoutingRow[], fraction: number, seed: number): { fit: RoutingRow[]; val: RoutingRow[] } {
  const rand = rng(seed);
  const fit: RoutingRow[] = [];
  const val: RoutingRow[] = [];
  for (const r of rows) (rand() < fraction ? val : fit).push(r);
  return { fit, val };
}

const ENSEMBLE_TOLERANCE = 1e-4;

/** Masked binary cross-entropy of predicted qualities against the scores (lower = better calibrated). */
function logLoss(pred: Float32Array, rows: readonly RoutingRow[], models: number): number {
  let sum = 0;
  let n = 0;
  rows.forEach((r, i) => {
    for (let m = 0; m < models; m++) {
      const y = r.scores[m]!;
      if (Number.isNaN(y)) continue;
      const p = Math.min(Math.max(pred[i * models + m]!, 1e-6), 1 - 1e-6);
      sum -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
      n++;
    }
  });
  return sum / Math.max(n, 1);
}

/**
 * Picks the subset of trained heads whose averaged prediction has the lowest log-loss on the validation split
 * (AIQ on a few hundred validation queries is too noisy to choose by; log-loss uses every label), so a head that
 * hurts on this data, or is poorly calibrated, is left out of the artifact. Within ENSEMBLE_TOLERANCE the larger
 * ensemble wins. Validation AIQ is recorded beside it.
 */
export function selectEnsemble(
  ds: RoutingDataset,
  val: readonly RoutingRow[],
  valX: Float32Array,
  heads: Record<string, HeadSpec>,
  dim: number,
): { names: string[]; scores: Record<string, { logLoss: number; aiq: number }> } {
  const M = ds.models.length;
  const names = Object.keys(heads);
  const preds = names.map((n) => predictRows([heads[n]!], valX, val.length, dim, M));
  const base = routingTable(ds, val, preds[0]!);
  const maxCost = Math.max(
    ...Array.from({ length: M }, (_, m) => {
      let c = 0;
      for (let i = 0; i < base.n; i++) c += base.trueCost[i * M + m]!;
      return c / base.n;
    }),
  );
  const scores: Record<string, { logLoss: number; aiq: number }> = {};
  const all: Array<{ names: string[]; loss: number }> = [];
  for (let mask = 1; mask < 1 << names.length; mask++) {
    const chosen = names.filter((_, i) => mask & (1 << i));
    const avg = new Float32Array(val.length * M);
    for (let i = 0; i < names.length; i++) if (mask & (1 << i)) for (let j = 0; j < avg.length; j++) avg[j]! += preds[i]![j]! / chosen.length;
    const t = { ...base, predQuality: avg };
    const loss = logLoss(avg, val, M);
    scores[chosen.join('+')] = { logLoss: Number(loss.toFixed(5)), aiq: Number(aiq(sweepWtp(t, wtpGrid(meanCost(t))), maxCost).toFixed(5)) };
    all.push({ names: chosen, loss });
  }
  const low = Math.min(...all.map((a) => a.loss));
  const best = all.filter((a) => a.loss <= low + ENSEMBLE_TOLERANCE).sort((a, b) => b.names.length - a.names.length || a.loss - b.loss)[0]!;
  return { names: best.names, scores };
}

export interface TrainedRouter {
  artifact: RouterArtifact;
  /** The features' encoder: the fitted hashing encoder, or it fused with the semantic one. */
  encoder: Encoder;
  heads: Record<string, HeadSpec>;
  losses: Record<string, { train: number[]; val: number[]; bestEpoch: number }>;
}

/** Fits the encoder, trains every planned head with early stopping on a validation split, calibrates the modes. */
export function trainRouter(ds: RoutingDataset, trainRows: readonly RoutingRow[], opts: PipelineOptions, name: string): TrainedRouter {
  const { fit, val } = splitTrainVal(trainRows, opts.valFraction, opts.seed);
  const lexical = HashingEncoder.fit(fit.map((r) => extractQuestion(r.prompt)), { dim: opts.dim, wordNgrams: 2, charNgrams: [3, 5] });
  const encoder: Encoder = opts.semantic ? new FusedEncoder(lexical, opts.semantic.encoder, opts.semantic.weight) : lexical;
  const dim = encoder.dim;
  const M = ds.models.length;
  const fitSet = toTrainSet(embed(encoder, fit), fit, dim, M);
  const valX = embed(encoder, val);
  const valSet = toTrainSet(valX, val, dim, M);
  const heads: Record<string, HeadSpec> = {};
  const losses: TrainedRouter['losses'] = {};
  opts.heads.forEach((plan, hi) => {
    const epochs = plan.train.epochs ?? 30;
    const res = trainHead(fitSet, {
      ...plan.train,
      seed: opts.seed + hi,
      validation: valSet,
      onEpoch: (e) => opts.onProgress?.(`${plan.name}`, hi * epochs + e + 1, opts.heads.length * epochs),
    });
    heads[plan.name] = { ...res.head, weight: plan.weight ?? 1 };
    losses[plan.name] = { train: res.losses, val: res.valLosses, bestEpoch: res.bestEpoch };
  });
  const selection = selectEnsemble(ds, val, valX, heads, dim);
  const ensemble = selection.names.map((n) => heads[n]!);
  const valTable = routingTable(ds, val, predictRows(ensemble, valX, val.length, dim, M));
  const modes = calibrateModes(valTable);
  const artifact: RouterArtifact = {
    name,
    version: `${name}-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`,
    encoder: lexical.state,
    ...(opts.semantic ? { semantic: { id: opts.semantic.encoder.id, dim: opts.semantic.encoder.dim, weight: opts.semantic.weight } } : {}),
    models: ds.models.map((m) => ({ ...m })),
    heads: ensemble,
    modes,
    training: {
      dataset: ds.name,
      format: ds.format,
      rows: { fit: fit.length, validation: val.length },
      features: opts.semantic ? { encoder: encoder.id, semanticWeight: opts.semantic.weight, dim } : { encoder: encoder.id, dim },
      ensemble: selection.names,
      validationScores: selection.scores,
      heads: Object.fromEntries(
        Object.entries(losses).map(([k, v]) => [k, { bestEpoch: v.bestEpoch, trainLoss: v.train.at(-1), valLoss: v.val[v.bestEpoch] }]),
      ),
      notes: ds.notes,
    },
  };
  return { artifact, encoder, heads, losses };
}
