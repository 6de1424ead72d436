import type { SparseVec } from './sparse.ts';
import { rng } from '../random.ts';

export interface SoftmaxHeadOptions {
  epochs?: number;
  learningRate?: number;
  /** L2 penalty, applied lazily to the rows a sample touches. */
  l2?: number;
  seed?: number;
  /**
   * Classes each sample is trained against (its own class is always added): a softmax over these alone, the
   * sampled-softmax way. Hard negatives from a cheaper model make a reranker that costs a fraction of the full
   * softmax per sample; serve it with `probsOver` on the same kind of candidates.
   */
  candidates?: (sample: number) => ArrayLike<number>;
  /** A class whose gradient for a sample is below this is not updated for it (default 1e-5). */
  gradSkip?: number;
}


/**
 * Multinomial logistic regression over sparse hashed features, trained by SGD on the agents' card texts only.
 * Weights are feature-major (dim × classes) so a query costs nnz × classes multiply-adds.
 */
export class SoftmaxHead {
  readonly classes: number;
  readonly dim: number;
  private readonly w: Float32Array;
  private readonly b: Float32Array;

  constructor(dim: number, classes: number, w?: Float32Array, b?: Float32Array) {
    this.dim = dim;
    this.classes = classes;
    this.w = w ?? new Float32Array(dim * classes);
    this.b = b ?? new Float32Array(classes);
  }

  static fit(xs: readonly SparseVec[], ys: readonly number[], dim: number, classes: number, opts: SoftmaxHeadOptions = {}): SoftmaxHead {
    const head = new SoftmaxHead(dim, classes);
    const epochs = opts.epochs ?? 12;
    const lr0 = opts.learningRate ?? 0.8;
    const l2 = opts.l2 ?? 1e-6;
    const rand = rng(opts.seed ?? 7);
    const order = Array.from(xs, (_, i) => i);
    const all = Uint32Array.from({ length: classes }, (_, c) => c);
    const set = new Uint32Array(classes + 1);
    const p = new Float32Array(classes + 1);
    const active = new Uint32Array(classes + 1);
    const grad = new Float32Array(classes + 1);
    const total = epochs * xs.length;
    const skip = opts.gradSkip ?? 1e-5;
    let step = 0;
    for (let e = 0; e < epochs; e++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const n of order) {
        const lr = lr0 * (1 - step++ / total) + 0.01;
        const x = xs[n]!;
        const y = ys[n]!;
        // the classes this sample is trained against: all, or its candidates plus its own class
        let m = classes;
        let cs: ArrayLike<number> = all;
        if (opts.candidates) {
          const given = opts.candidates(n);
          m = 0;
          let hasY = false;
          for (let k = 0; k < given.length; k++) {
            set[m++] = given[k]!;
            if (given[k] === y) hasY = true;
          }
          if (!hasY) set[m++] = y;
          cs = set;
        }
        head.logitsOver(x, opts.candidates ? cs : null, m, p);
        softmaxPrefix(p, m);
        const decay = 1 - lr * l2;
        // gradient per class; classes whose gradient is negligible are skipped, the rest updated row by row
        let na = 0;
        for (let k = 0; k < m; k++) {
          const c = cs[k]!;
          const g = p[k]! - (c === y ? 1 : 0);
          if (g > -skip && g < skip) continue;
          active[na] = c;
          grad[na++] = lr * g;
          head.b[c]! -= lr * g * 0.1;
        }
        for (let i = 0; i < x.idx.length; i++) {
          const row = x.idx[i]! * classes;
          const v = x.val[i]!;
          for (let k = 0; k < na; k++) {
            const o = row + active[k]!;
            head.w[o] = head.w[o]! * decay - grad[k]! * v;
          }
        }
      }
    }
    return head;
  }

  /** Logits of the first `m` classes of `cs` for x, into out[0..m); `cs` null = every class in order. */
  private logitsOver(x: SparseVec, cs: ArrayLike<number> | null, m: number, out: Float32Array): void {
    const C = this.classes;
    if (cs === null) {
      out.set(this.b);
      for (let i = 0; i < x.idx.length; i++) {
        const o = x.idx[i]! * C;
        const v = x.val[i]!;
        for (let c = 0; c < C; c++) out[c]! += v * this.w[o + c]!;
      }
      return;
    }
    for (let k = 0; k < m; k++) out[k] = this.b[cs[k]!]!;
    for (let i = 0; i < x.idx.length; i++) {
      const o = x.idx[i]! * C;
      const v = x.val[i]!;
      for (let k = 0; k < m; k++) out[k]! += v * this.w[o + cs[k]!]!;
    }
  }

  /**
   * Probabilities over the classes `cs` alone (a softmax among them) written at their positions in out (length
   * classes); every other class gets 0. Returns out.
   */
  probsOver(x: SparseVec, cs: ArrayLike<number>, out: Float32Array): Float32Array {
    const tmp = new Float32Array(cs.length);
    this.logitsOver(x, cs, cs.length, tmp);
    softmaxPrefix(tmp, cs.length);
    out.fill(0);
    for (let k = 0; k < cs.length; k++) out[cs[k]!] = tmp[k]!;
    return out;
  }

  /** The fitted weights (feature-major dim × classes) and biases, for serialising. */
  weights(): { w: Float32Array; b: Float32Array } {
    return { w: this.w, b: this.b };
  }

  /** Writes the class probabilities for x into out (length classes); returns out. */
  probsInto(x: SparseVec, out: Float32Array): Float32Array {
    const C = this.classes;
    out.set(this.b);
    for (let i = 0; i < x.idx.length; i++) {
      const o = x.idx[i]! * C;
      const v = x.val[i]!;
      for (let c = 0; c < C; c++) out[c]! += v * this.w[o + c]!;
    }
    return softmaxInPlace(out);
  }
}

/** Softmax of v[0..m) in place (the rest untouched). */
function softmaxPrefix(v: Float32Array, m: number): void {
  let max = -Infinity;
  for (let c = 0; c < m; c++) if (v[c]! > max) max = v[c]!;
  let sum = 0;
  for (let c = 0; c < m; c++) {
    const e = Math.exp(v[c]! - max);
    v[c] = e;
    sum += e;
  }
  for (let c = 0; c < m; c++) v[c]! /= sum;
}

/** Logits → probabilities, in place (max-subtracted for stability); returns v. */
export function softmaxInPlace(v: Float32Array): Float32Array {
  let max = -Infinity;
  for (let c = 0; c < v.length; c++) if (v[c]! > max) max = v[c]!;
  let sum = 0;
  for (let c = 0; c < v.length; c++) {
    const e = Math.exp(v[c]! - max);
    v[c] = e;
    sum += e;
  }
  for (let c = 0; c < v.length; c++) v[c]! /= sum;
  return v;
}
