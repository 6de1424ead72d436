import type { SparseVec } from './sparse.ts';
import { rng } from '../random.ts';

function dotDense(v: SparseVec, c: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.idx.length; i++) s += v.val[i]! * c[v.idx[i]!]!;
  return s;
}

/**
 * Spherical k-means (cosine) with k-means++ seeding: the bottom-up half of the hybrid category system groups agents
 * whose skill texts look alike. Deterministic for a given seed. Returns the cluster of each vector.
 */
export function sphericalKMeans(vecs: readonly SparseVec[], dim: number, k: number, seed = 13, iterations = 20): number[] {
  const n = vecs.length;
  if (n === 0) return [];
  k = Math.max(1, Math.min(k, n));
  const rand = rng(seed);
  const centers: Float32Array[] = [];
  const setCenter = (c: Float32Array, v: SparseVec): void => {
    c.fill(0);
    for (let i = 0; i < v.idx.length; i++) c[v.idx[i]!] = v.val[i]!;
  };
  const first = new Float32Array(dim);
  setCenter(first, vecs[Math.floor(rand() * n)]!);
  centers.push(first);
  const best = new Float64Array(n).fill(-Infinity);
  while (centers.length < k) {
    const last = centers[centers.length - 1]!;
    let total = 0;
    const dist = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      best[i] = Math.max(best[i]!, dotDense(vecs[i]!, last));
      dist[i] = Math.max(0, 1 - best[i]!) ** 2;
      total += dist[i]!;
    }
    let r = rand() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= dist[i]!;
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    const c = new Float32Array(dim);
    setCenter(c, vecs[pick]!);
    centers.push(c);
  }
  const assign = new Array<number>(n).fill(-1);
  for (let it = 0; it < iterations; it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let bc = 0;
      let bs = -Infinity;
      for (let c = 0; c < k; c++) {
        const s = dotDense(vecs[i]!, centers[c]!);
        if (s > bs) [bs, bc] = [s, c];
      }
      if (assign[i] !== bc) [assign[i], changed] = [bc, true];
    }
    if (!changed) break;
    for (let c = 0; c < k; c++) {
      const center = centers[c]!;
      const members = vecs.filter((_, i) => assign[i] === c);
      if (members.length === 0) continue; // keep the old center: an empty cluster is harmless here
      center.fill(0);
      for (const v of members) for (let i = 0; i < v.idx.length; i++) center[v.idx[i]!]! += v.val[i]!;
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += center[d]! * center[d]!;
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let d = 0; d < dim; d++) center[d]! *= inv;
    }
  }
  return assign;
}
