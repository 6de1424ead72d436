import * as tf from '@tensorflow/tfjs-core';
import type { HeadKind, HeadSpec, Objective, Tensor } from '../types.ts';
import { DEFAULT_GAPS, modelPairs, pairLabel, type GapThresholds } from '../pairwise.ts';
import { rng } from '../../random.ts';

/** Training rows: X is row-major [n, dim]; Y is [n, models] scores in [0, 1], NaN where missing. */
export interface TrainSet {
  n: number;
  dim: number;
  models: number;
  X: Float32Array;
  Y: Float32Array;
}

export interface TrainOptions {
  kind: Exclude<HeadKind, 'knn'>;
  objective?: Objective;
  hidden?: number;
  experts?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  l2?: number;
  /** Weight of the pointwise anchor in the pairwise objective (keeps outputs calibrated as probabilities). */
  anchor?: number;
  gaps?: GapThresholds;
  seed?: number;
  /** Early stopping: keep the epoch with the lowest validation loss. */
  validation?: TrainSet;
  patience?: number;
  onEpoch?: (epoch: number, trainLoss: number, valLoss: number | undefined) => void;
}

export interface TrainResult {
  head: HeadSpec;
  losses: number[];
  valLosses: number[];
  bestEpoch: number;
}


type Params = Record<string, tf.Variable>;

function init(kind: TrainOptions['kind'], dim: number, m: number, hidden: number, experts: number, seed: number): Params {
  const glorot = (shape: number[], s: number): tf.Variable => {
    const fanIn = shape.at(-2) ?? 1;
    const fanOut = shape.at(-1) ?? 1;
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    return tf.variable(tf.randomUniform(shape, -lim, lim, 'float32', seed + s));
  };
  const zeros = (shape: number[]): tf.Variable => tf.variable(tf.zeros(shape));
  if (kind === 'linear') return { W: zeros([dim, m]), b: zeros([m]) };
  const p: Params = { W1: glorot([dim, hidden], 1), b1: zeros([hidden]) };
  if (kind === 'mlp') return { ...p, W2: glorot([hidden, m], 2), b2: zeros([m]) };
  return { ...p, Wg: glorot([hidden, experts], 3), bg: zeros([experts]), We: glorot([experts, hidden, m], 4), be: zeros([experts, m]) };
}

/** Logits [batch, m] of the head for inputs x [batch, dim]; mirrors heads/infer.ts. */
function forward(kind: TrainOptions['kind'], p: Params, x: tf.Tensor2D): tf.Tensor2D {
  if (kind === 'linear') return tf.add(tf.matMul(x, p.W!), p.b!);
  const h = tf.relu(tf.add(tf.matMul(x, p.W1!), p.b1!)) as tf.Tensor2D;
  if (kind === 'mlp') return tf.add(tf.matMul(h, p.W2!), p.b2!);
  const gate = tf.softmax(tf.add(tf.matMul(h, p.Wg!), p.bg!)) as tf.Tensor2D; // [B, E]
  const [E, H, M] = p.We!.shape as [number, number, number];
  const experts = tf.add(tf.reshape(tf.matMul(h, tf.reshape(tf.transpose(p.We!, [1, 0, 2]), [H, E * M])), [-1, E, M]), p.be!); // [B, E, M]
  return tf.sum(tf.mul(experts, tf.expandDims(gate, 2)), 1) as tf.Tensor2D;
}

/** Masked BCE with logits; labels may be fractional scores. */
function pointwiseLoss(logits: tf.Tensor2D, y: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  const l = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  return tf.div(tf.sum(tf.mul(l, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** Ordinal 5-class cross-entropy on logit gaps, with learned symmetric thresholds t1 < t2. */
function pairwiseLoss(logits: tf.Tensor2D, labels: tf.Tensor2D, pmask: tf.Tensor2D, diff: tf.Tensor2D, th: tf.Variable): tf.Scalar {
  // Gaps via a fixed ±1 matrix [M, P] (gather's gradient needs a kernel the wasm backend lacks).
  const d = tf.matMul(logits, diff); // [B, P]
  const t1 = tf.softplus(tf.slice(th, [0], [1]));
  const t2 = tf.add(t1, tf.softplus(tf.slice(th, [1], [1])));
  const cuts = tf.concat([tf.neg(t2), tf.neg(t1), t1, t2]); // [4]
  const cdf = tf.sigmoid(tf.sub(tf.reshape(cuts, [1, 1, 4]), tf.expandDims(d, 2))); // P(class ≤ k) [B, P, 4]
  const [B, P] = d.shape as [number, number];
  const lo = tf.concat([tf.zeros([B, P, 1]), cdf], 2);
  const hi = tf.concat([cdf, tf.ones([B, P, 1])], 2);
  const probs = tf.maximum(tf.sub(hi, lo), 1e-6); // [B, P, 5]
  const onehot = tf.oneHot(tf.cast(labels, 'int32'), 5);
  const nll = tf.neg(tf.sum(tf.mul(onehot, tf.log(probs)), 2));
  return tf.div(tf.sum(tf.mul(nll, pmask)), tf.maximum(tf.sum(pmask), 1)) as tf.Scalar;
}

function batchTensors(set: TrainSet, rows: ArrayLike<number>, pairs: Array<[number, number]>, gaps: GapThresholds) {
  const { dim, models: m } = set;
  const n = rows.length;
  const x = new Float32Array(n * dim);
  const y = new Float32Array(n * m);
  const mask = new Float32Array(n * m);
  const pl = new Float32Array(n * pairs.length);
  const pm = new Float32Array(n * pairs.length);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    x.set(set.X.subarray(r * dim, (r + 1) * dim), i * dim);
    for (let o = 0; o < m; o++) {
      const v = set.Y[r * m + o]!;
      if (!Number.isNaN(v)) {
        y[i * m + o] = v;
        mask[i * m + o] = 1;
      }
    }
    pairs.forEach(([a, b], k) => {
      const va = set.Y[r * m + a]!;
      const vb = set.Y[r * m + b]!;
      if (Number.isNaN(va) || Number.isNaN(vb)) return;
      pl[i * pairs.length + k] = pairLabel(va, vb, gaps);
      pm[i * pairs.length + k] = 1;
    });
  }
  return {
    x: tf.tensor2d(x, [n, dim]),
    y: tf.tensor2d(y, [n, m]),
    mask: tf.tensor2d(mask, [n, m]),
    pl: tf.tensor2d(pl, [n, pairs.length]),
    pm: tf.tensor2d(pm, [n, pairs.length]),
  };
}

function toTensor(v: tf.Variable): Tensor {
  return { shape: [...v.shape], data: Float32Array.from(v.dataSync()) };
}

/**
 * Trains one score head with tfjs. The caller sets the backend and registers tfjs-core's gradients (the CLI's
 * initTf does both; tfjs-core alone registers none). Returns the head as
 * plain typed arrays, so serving needs no tfjs.
 */
export function trainHead(set: TrainSet, opts: TrainOptions): TrainResult {
  const objective = opts.objective ?? 'pointwise';
  const epochs = opts.epochs ?? 30;
  const bs = opts.batchSize ?? 128;
  const l2 = opts.l2 ?? 1e-4;
  const anchor = opts.anchor ?? 0.3;
  const gaps = opts.gaps ?? DEFAULT_GAPS;
  const seed = opts.seed ?? 7;
  const rand = rng(seed);
  const pairs = objective === 'pairwise' ? modelPairs(set.models) : [];
  const diffData = new Float32Array(set.models * Math.max(pairs.length, 1));
  pairs.forEach(([a, b], k) => {
    diffData[a * pairs.length + k] = 1;
    diffData[b * pairs.length + k] = -1;
  });
  const diff = tf.tensor2d(diffData, [set.models, Math.max(pairs.length, 1)]);
  const params = init(opts.kind, set.dim, set.models, opts.hidden ?? 64, opts.experts ?? 4, seed);
  const th = tf.variable(tf.tensor1d([0, 0.5]));
  const vars = [...Object.values(params), ...(objective === 'pairwise' ? [th] : [])];
  const optimizer = tf.train.adam(opts.learningRate ?? 3e-3);
  const lossOf = (b: ReturnType<typeof batchTensors>): tf.Scalar => {
    const logits = forward(opts.kind, params, b.x);
    let loss = pointwiseLoss(logits, b.y, b.mask);
    if (objective === 'pairwise') loss = tf.add(tf.mul(loss, anchor), pairwiseLoss(logits, b.pl, b.pm, diff, th));
    const reg = Object.entries(params)
      .filter(([k]) => k.startsWith('W'))
      .reduce((acc, [, v]) => tf.add(acc, tf.sum(tf.square(v))), tf.scalar(0));
    return tf.add(loss, tf.mul(reg, l2)) as tf.Scalar;
  };
  const val = opts.validation ? batchTensors(opts.validation, Array.from({ length: opts.validation.n }, (_, i) => i), pairs, gaps) : undefined;
  const losses: number[] = [];
  const valLosses: number[] = [];
  let best = { loss: Infinity, epoch: -1, weights: new Map<string, Tensor>() };
  const patience = opts.patience ?? 5;
  const order = Array.from({ length: set.n }, (_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let sum = 0;
    let batches = 0;
    for (let s = 0; s < set.n; s += bs) {
      const b = batchTensors(set, order.slice(s, s + bs), pairs, gaps);
      const cost = optimizer.minimize(() => lossOf(b), true, vars);
      sum += cost?.dataSync()[0] ?? 0;
      batches++;
      cost?.dispose();
      tf.dispose(b);
    }
    losses.push(sum / Math.max(batches, 1));
    let vl: number | undefined;
    if (val) {
      vl = tf.tidy(() => lossOf(val).dataSync()[0]!);
      valLosses.push(vl);
    }
    opts.onEpoch?.(epoch, losses.at(-1)!, vl);
    const score = vl ?? losses.at(-1)!;
    if (score < best.loss) {
      best = { loss: score, epoch, weights: new Map(Object.entries(params).map(([k, v]) => [k, toTensor(v)])) };
    } else if (val && epoch - best.epoch >= patience) break;
  }
  const tensors: Record<string, Tensor> = Object.fromEntries(best.weights);
  tf.dispose([...Object.values(params), th, diff]);
  optimizer.dispose();
  if (val) tf.dispose(val);
  return { head: { kind: opts.kind, objective, weight: 1, tensors }, losses, valLosses, bestEpoch: best.epoch };
}
