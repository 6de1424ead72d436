import type { RoutingRow } from '../data/load.ts';

/**
 * Brute-force cosine kNN over sparse embeddings (inverted index: each bucket lists the train rows using it), the
 * RouterBench kNN baseline: predicted score = mean score of the k most similar train queries.
 */
export function knnPredict(trainX: Float32Array, trainRows: readonly RoutingRow[], testX: Float32Array, nTest: number, dim: number, models: number, k: number): Float32Array {
  const n = trainRows.length;
  const postings: Array<{ rows: number[]; vals: number[] }> = Array.from({ length: dim }, () => ({ rows: [], vals: [] }));
  for (let r = 0; r < n; r++) {
    for (let b = 0; b < dim; b++) {
      const v = trainX[r * dim + b]!;
      if (v !== 0) {
        postings[b]!.rows.push(r);
        postings[b]!.vals.push(v);
      }
    }
  }
  const out = new Float32Array(nTest * models);
  const sims = new Float32Array(n);
  for (let i = 0; i < nTest; i++) {
    sims.fill(0);
    for (let b = 0; b < dim; b++) {
      const q = testX[i * dim + b]!;
      if (q === 0) continue;
      const p = postings[b]!;
      for (let j = 0; j < p.rows.length; j++) sims[p.rows[j]!]! += q * p.vals[j]!;
    }
    const top = Array.from({ length: n }, (_, r) => r)
      .sort((a, b) => sims[b]! - sims[a]!)
      .slice(0, Math.min(k, n));
    for (let m = 0; m < models; m++) {
      let s = 0;
      let c = 0;
      for (const r of top) {
        const v = trainRows[r]!.scores[m]!;
        if (!Number.isNaN(v)) {
          s += v;
          c++;
        }
      }
      out[i * models + m] = c > 0 ? s / c : 0.5;
    }
  }
  return out;
}
