/**
 * RouteLLM's two-model metrics. A router is a score per query (higher = more in need of the strong model); sending
 * the top x share to the strong model gives quality r(x). PGR(x) = (r(x) − r_weak) / (r_strong − r_weak).
 */
export interface TwoModelCurve {
  /** Share of calls sent to the strong model, 0..1, ascending. */
  strongShare: number[];
  quality: number[];
  pgr: number[];
}

/** Quality when the queries with the highest `need` go to the strong model, at every possible strong share. */
export function twoModelCurve(need: ArrayLike<number>, strong: ArrayLike<number>, weak: ArrayLike<number>): TwoModelCurve {
  const n = need.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => need[b]! - need[a]!);
  let q = 0;
  for (let i = 0; i < n; i++) q += weak[i]!;
  const rWeak = q / n;
  let rStrong = 0;
  for (let i = 0; i < n; i++) rStrong += strong[i]!;
  rStrong /= n;
  const gap = rStrong - rWeak;
  const strongShare = [0];
  const quality = [rWeak];
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    q += strong[i]! - weak[i]!;
    strongShare.push((k + 1) / n);
    quality.push(q / n);
  }
  const pgr = quality.map((r) => (gap !== 0 ? (r - rWeak) / gap : 0));
  return { strongShare, quality, pgr };
}

/** Average PGR over strong shares 0..1 (trapezoid rule over the full curve). */
export function apgr(curve: TwoModelCurve): number {
  let area = 0;
  for (let i = 1; i < curve.strongShare.length; i++) {
    area += ((curve.pgr[i - 1]! + curve.pgr[i]!) / 2) * (curve.strongShare[i]! - curve.strongShare[i - 1]!);
  }
  return area;
}

/** CPT(p): the smallest share of strong calls that reaches PGR ≥ p (1 if never). */
export function cpt(curve: TwoModelCurve, p: number): number {
  for (let i = 0; i < curve.pgr.length; i++) if (curve.pgr[i]! >= p) return curve.strongShare[i]!;
  return 1;
}
