/** A sparse L2-normalised vector: the encoders here are hashed n-grams, so a query touches ~100 of 2^15 buckets. */
export interface SparseVec {
  idx: Uint32Array;
  val: Float32Array;
}

export function toSparse(dense: Float32Array): SparseVec {
  let n = 0;
  for (let i = 0; i < dense.length; i++) if (dense[i] !== 0) n++;
  const idx = new Uint32Array(n);
  const val = new Float32Array(n);
  let k = 0;
  for (let i = 0; i < dense.length; i++) {
    const v = dense[i]!;
    if (v !== 0) {
      idx[k] = i;
      val[k++] = v;
    }
  }
  return { idx, val };
}

/** Weighted sum of sparse vectors, L2-normalised (used for centroids and context blending). */
export function blend(parts: ReadonlyArray<{ vec: SparseVec; weight: number }>): SparseVec {
  const acc = new Map<number, number>();
  for (const { vec, weight } of parts) {
    if (weight === 0) continue;
    for (let i = 0; i < vec.idx.length; i++) {
      const k = vec.idx[i]!;
      acc.set(k, (acc.get(k) ?? 0) + weight * vec.val[i]!);
    }
  }
  const keys = [...acc.keys()].sort((a, b) => a - b);
  let norm = 0;
  for (const k of keys) norm += acc.get(k)! ** 2;
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return { idx: Uint32Array.from(keys), val: Float32Array.from(keys, (k) => acc.get(k)! * inv) };
}

export function dotSparse(a: SparseVec, b: SparseVec): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.idx.length && j < b.idx.length) {
    const x = a.idx[i]!;
    const y = b.idx[j]!;
    if (x === y) s += a.val[i++]! * b.val[j++]!;
    else if (x < y) i++;
    else j++;
  }
  return s;
}

/**
 * Inverted index over many sparse vectors: one query scores all of them in time proportional to the postings it
 * touches, not to (vectors × dim). This is what keeps a 150-agent decision under a millisecond.
 */
export class SparseMatrix {
  readonly rows: number;
  private readonly start: Uint32Array;
  private readonly postRow: Uint32Array;
  private readonly postVal: Float32Array;

  constructor(vectors: readonly SparseVec[], dim: number) {
    this.rows = vectors.length;
    const counts = new Uint32Array(dim + 1);
    for (const v of vectors) for (const k of v.idx) counts[k + 1]!++;
    for (let d = 0; d < dim; d++) counts[d + 1]! += counts[d]!;
    this.start = counts;
    const total = counts[dim]!;
    this.postRow = new Uint32Array(total);
    this.postVal = new Float32Array(total);
    const fill = counts.slice(0, dim);
    vectors.forEach((v, r) => {
      for (let i = 0; i < v.idx.length; i++) {
        const p = fill[v.idx[i]!]!++;
        this.postRow[p] = r;
        this.postVal[p] = v.val[i]!;
      }
    });
  }

  /** out[r] = <row r, q>; out must have length rows and is overwritten. */
  scores(q: SparseVec, out: Float32Array): Float32Array {
    out.fill(0);
    for (let i = 0; i < q.idx.length; i++) {
      const k = q.idx[i]!;
      const w = q.val[i]!;
      const end = this.start[k + 1]!;
      for (let p = this.start[k]!; p < end; p++) out[this.postRow[p]!]! += w * this.postVal[p]!;
    }
    return out;
  }
}
