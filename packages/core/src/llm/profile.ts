// Profiling a pool, the pure parts: which prompts to profile (diversity sampling on encoder vectors), how a judge's
// position-swapped verdicts combine into the paper's five pairwise classes, and per-model scores from them.

/** The pairwise classes in ASCII (a≈b, a>b, a<b, a≫b, a≪b of the paper). */
export type PairVerdict = 'a=b' | 'a>b' | 'a<b' | 'a>>b' | 'a<<b';

/** A verdict as a score for `a` in {-2..2} (2 = a much better). */
export function verdictScore(v: PairVerdict): number {
  return { 'a<<b': -2, 'a<b': -1, 'a=b': 0, 'a>b': 1, 'a>>b': 2 }[v];
}

function verdictOf(score: number): PairVerdict {
  if (score >= 1.5) return 'a>>b';
  if (score >= 0.5) return 'a>b';
  if (score <= -1.5) return 'a<<b';
  if (score <= -0.5) return 'a<b';
  return 'a=b';
}

/**
 * Combines the judge's two readings of one pair, (a, b) and (b, a) with the answers' positions swapped, into one
 * verdict for a: the mean of a's scores. A judge that prefers whichever answer comes first gives opposite readings,
 * which cancel to a tie; a consistent judge keeps its verdict.
 */
export function combineSwapped(ab: PairVerdict, ba: PairVerdict): PairVerdict {
  return verdictOf((verdictScore(ab) - verdictScore(ba)) / 2);
}

/**
 * Per-model quality on one prompt from its pairwise verdicts: the mean over its comparisons of (its score + 2) / 4,
 * in [0, 1] (0.5 when it was never compared).
 */
export function scoresFromVerdicts(models: readonly string[], verdicts: ReadonlyArray<{ a: string; b: string; label: PairVerdict }>): Record<string, number> {
  const sum = new Map<string, number>();
  const n = new Map<string, number>();
  for (const v of verdicts) {
    const s = verdictScore(v.label);
    for (const [m, x] of [[v.a, s], [v.b, -s]] as const) {
      sum.set(m, (sum.get(m) ?? 0) + (x + 2) / 4);
      n.set(m, (n.get(m) ?? 0) + 1);
    }
  }
  return Object.fromEntries(models.map((m) => [m, n.get(m) ? sum.get(m)! / n.get(m)! : 0.5]));
}

/**
 * Picks `budget` representative rows of `n` vectors (row-major, `dim` each): k-means++ seeding, i.e. the first at
 * random, then each next with probability proportional to its squared distance to the nearest pick so far. The picks
 * cover the space the prompts span (dense regions get more, outliers some) instead of its most common corner.
 * Deterministic for a seed. Returns row indices in pick order.
 */
export function diversitySample(vectors: Float32Array, n: number, dim: number, budget: number, seed: number): number[] {
  if (budget >= n) return Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0 || 1;
  const rand = () => {
    // xorshift32: small, seedable, good enough to pick rows
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const nearest = new Float64Array(n).fill(Infinity);
  const picks: number[] = [];
  const chosen = new Uint8Array(n);
  let next = Math.floor(rand() * n);
  while (picks.length < budget) {
    picks.push(next);
    chosen[next] = 1;
    const p = next * dim;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (chosen[i]) {
        nearest[i] = 0;
        continue;
      }
      let d = 0;
      const q = i * dim;
      for (let k = 0; k < dim; k++) {
        const x = vectors[q + k]! - vectors[p + k]!;
        d += x * x;
      }
      if (d < nearest[i]!) nearest[i] = d;
      total += nearest[i]!;
    }
    if (picks.length >= budget) break;
    if (total === 0) {
      // Every remaining row duplicates a pick: take the rest in order.
      for (let i = 0; i < n && picks.length < budget; i++) if (!chosen[i]) (picks.push(i), (chosen[i] = 1));
      break;
    }
    let r = rand() * total;
    next = -1;
    for (let i = 0; i < n; i++) {
      if (chosen[i]) continue;
      r -= nearest[i]!;
      if (r <= 0) {
        next = i;
        break;
      }
    }
    if (next < 0) next = [...chosen.keys()].find((i) => !chosen[i])!;
  }
  return picks;
}

/**
 * Ridge regression y ≈ X·w + b (X row-major, n × m; the bias unpenalised), solved from the normal equations by
 * Gaussian elimination with partial pivoting. Used to onboard a model: its quality as a linear function of the
 * trained models' predicted qualities, from a small anchor set.
 */
export function fitLinear(X: Float32Array | number[], y: readonly number[], n: number, m: number, lambda = 0.1): { weights: number[]; bias: number } {
  const k = m + 1;
  const A = Array.from({ length: k }, () => new Float64Array(k + 1));
  for (let i = 0; i < n; i++) {
    const row = [...Array.from({ length: m }, (_, j) => Number(X[i * m + j])), 1];
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) A[a]![b]! += row[a]! * row[b]!;
      A[a]![k]! += row[a]! * y[i]!;
    }
  }
  for (let a = 0; a < m; a++) A[a]![a]! += lambda;
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[piv]![c]!)) piv = r;
    [A[c], A[piv]] = [A[piv]!, A[c]!];
    const d = A[c]![c]!;
    if (Math.abs(d) < 1e-12) continue;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / d;
      if (f !== 0) for (let j = c; j <= k; j++) A[r]![j]! -= f * A[c]![j]!;
    }
  }
  const sol = A.map((row, i) => (Math.abs(row[i]!) < 1e-12 ? 0 : row[k]! / row[i]!));
  return { weights: sol.slice(0, m), bias: sol[m]! };
}

/** Mean absolute error of fitLinear over `folds` interleaved folds (each row predicted by a fit without it). */
export function crossValidatedMae(X: Float32Array | number[], y: readonly number[], n: number, m: number, folds = 5, lambda = 0.1): number {
  if (n < 2) return Number.NaN;
  const f = Math.min(folds, n);
  let err = 0;
  for (let k = 0; k < f; k++) {
    const train = Array.from({ length: n }, (_, i) => i).filter((i) => i % f !== k);
    const Xt = new Float32Array(train.length * m);
    train.forEach((i, r) => {
      for (let j = 0; j < m; j++) Xt[r * m + j] = Number(X[i * m + j]);
    });
    const { weights, bias } = fitLinear(Xt, train.map((i) => y[i]!), train.length, m, lambda);
    for (let i = k; i < n; i += f) {
      let v = bias;
      for (let j = 0; j < m; j++) v += weights[j]! * Number(X[i * m + j]);
      err += Math.abs(Math.min(1, Math.max(0, v)) - y[i]!);
    }
  }
  return err / n;
}
