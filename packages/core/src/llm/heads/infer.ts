import type { HeadSpec, Tensor } from '../types.ts';

/** Nonzero entries of an embedding; hashed TF-IDF vectors are sparse, so dense layers only touch these rows. */
export interface SparseVec {
  idx: Int32Array;
  val: Float32Array;
}

export function sparsify(x: Float32Array): SparseVec {
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) n++;
  const idx = new Int32Array(n);
  const val = new Float32Array(n);
  let j = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v !== 0) {
      idx[j] = i;
      val[j++] = v;
    }
  }
  return { idx, val };
}

function t(head: HeadSpec, name: string): Tensor {
  const v = head.tensors[name];
  if (!v) throw new Error(`head ${head.kind} lacks tensor ${name}`);
  return v;
}

/** out = x·W + b for a sparse x and W [dim, n]. */
function sparseAffine(x: SparseVec, W: Tensor, b: Tensor): Float32Array {
  const n = W.shape[1]!;
  const out = Float32Array.from(b.data);
  const w = W.data;
  for (let j = 0; j < x.idx.length; j++) {
    const row = x.idx[j]! * n;
    const v = x.val[j]!;
    for (let o = 0; o < n; o++) out[o]! += v * w[row + o]!;
  }
  return out;
}

/** out = h·W + b for a dense h and W [h.length, n] (offset into W's data for stacked experts). */
function denseAffine(h: Float32Array, W: Float32Array, n: number, b: Float32Array, wOff = 0, bOff = 0): Float32Array {
  const out = b.slice(bOff, bOff + n);
  for (let i = 0; i < h.length; i++) {
    const v = h[i]!;
    if (v === 0) continue;
    const row = wOff + i * n;
    for (let o = 0; o < n; o++) out[o]! += v * W[row + o]!;
  }
  return out;
}

function relu(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) if (a[i]! < 0) a[i] = 0;
  return a;
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function knn(head: HeadSpec, x: Float32Array): Float32Array {
  const X = t(head, 'X');
  const Y = t(head, 'Y');
  const [n, dim] = X.shape as [number, number];
  const m = Y.shape[1]!;
  const k = Math.min(head.k ?? 40, n);
  const sims = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    const off = r * dim;
    for (let i = 0; i < dim; i++) s += x[i]! * X.data[off + i]!;
    sims[r] = s;
  }
  const order = Array.from(sims.keys()).sort((a, b) => sims[b]! - sims[a]!).slice(0, k);
  const out = new Float32Array(m);
  let wsum = 0;
  for (const r of order) {
    const w = Math.max(sims[r]!, 0) + 1e-6;
    wsum += w;
    for (let o = 0; o < m; o++) out[o]! += w * Y.data[r * m + o]!;
  }
  for (let o = 0; o < m; o++) out[o]! /= wsum;
  return out;
}

/** Predicted quality in [0, 1] per model for one embedded query. */
export function predictHead(head: HeadSpec, x: Float32Array, sx: SparseVec = sparsify(x)): Float32Array {
  let logits: Float32Array;
  switch (head.kind) {
    case 'knn':
      return knn(head, x);
    case 'linear':
      logits = sparseAffine(sx, t(head, 'W'), t(head, 'b'));
      break;
    case 'mlp': {
      const h = relu(sparseAffine(sx, t(head, 'W1'), t(head, 'b1')));
      const W2 = t(head, 'W2');
      logits = denseAffine(h, W2.data, W2.shape[1]!, t(head, 'b2').data);
      break;
    }
    case 'moe': {
      const h = relu(sparseAffine(sx, t(head, 'W1'), t(head, 'b1')));
      const Wg = t(head, 'Wg');
      const g = denseAffine(h, Wg.data, Wg.shape[1]!, t(head, 'bg').data);
      let max = -Infinity;
      for (const v of g) max = Math.max(max, v);
      let sum = 0;
      for (let e = 0; e < g.length; e++) sum += g[e] = Math.exp(g[e]! - max);
      const We = t(head, 'We');
      const be = t(head, 'be').data;
      const [E, H, M] = We.shape as [number, number, number];
      logits = new Float32Array(M);
      for (let e = 0; e < E; e++) {
        const ge = g[e]! / sum;
        const out = denseAffine(h, We.data, M, be, e * H * M, e * M);
        for (let o = 0; o < M; o++) logits[o]! += ge * out[o]!;
      }
      break;
    }
  }
  for (let o = 0; o < logits.length; o++) logits[o] = sigmoid(logits[o]!);
  return logits;
}

/** Weighted mean of the heads' predictions (an ensemble is steadier than any one head). */
export function predictEnsemble(heads: readonly HeadSpec[], x: Float32Array, models: number): Float32Array {
  const sx = sparsify(x);
  const out = new Float32Array(models);
  let wsum = 0;
  for (const h of heads) {
    const p = predictHead(h, x, sx);
    for (let o = 0; o < models; o++) out[o]! += h.weight * p[o]!;
    wsum += h.weight;
  }
  if (wsum > 0) for (let o = 0; o < models; o++) out[o]! /= wsum;
  return out;
}
