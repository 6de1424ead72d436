import type { CostQuality } from './hull.ts';

/** Per-query predictions and outcomes, row-major [n, models]. */
export interface RoutingTable {
  n: number;
  models: number;
  predQuality: Float32Array;
  predCost: Float32Array;
  trueScore: Float32Array;
  trueCost: Float32Array;
}

/** For each query, the model with the best utility q − c/wtp (wtp = Infinity: best quality, cheaper on ties). */
export function pickAtWtp(t: RoutingTable, wtp: number): Int32Array {
  const picks = new Int32Array(t.n);
  for (let i = 0; i < t.n; i++) {
    let best = -Infinity;
    let bestCost = Infinity;
    let arg = 0;
    for (let m = 0; m < t.models; m++) {
      const q = t.predQuality[i * t.models + m]!;
      const c = t.predCost[i * t.models + m]!;
      const u = Number.isFinite(wtp) ? q - c / wtp : q;
      if (u > best + 1e-12 || (Math.abs(u - best) <= 1e-12 && c < bestCost)) {
        best = u;
        bestCost = c;
        arg = m;
      }
    }
    picks[i] = arg;
  }
  return picks;
}

/** Mean realized cost and quality of a set of picks. */
export function outcome(t: RoutingTable, picks: Int32Array): CostQuality {
  let c = 0;
  let q = 0;
  for (let i = 0; i < t.n; i++) {
    c += t.trueCost[i * t.models + picks[i]!]!;
    q += t.trueScore[i * t.models + picks[i]!]!;
  }
  return { cost: c / t.n, quality: q / t.n };
}

/** Operating points over a log-spaced range of willingness-to-pay, plus the pure-quality end. */
export function sweepWtp(t: RoutingTable, wtps: readonly number[]): Array<CostQuality & { wtp: number }> {
  return wtps.map((wtp) => ({ wtp, ...outcome(t, pickAtWtp(t, wtp)) }));
}

/** Log-spaced wtp grid around a reference cost (USD per query): from ref/1000 to ref·1000, then Infinity. */
export function wtpGrid(refCost: number, steps = 49): number[] {
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push(refCost * 10 ** (-3 + (6 * i) / (steps - 1)));
  out.push(Infinity);
  return out;
}

/** Each model alone, as an operating point. */
export function singleModelPoints(t: RoutingTable): CostQuality[] {
  const out: CostQuality[] = [];
  for (let m = 0; m < t.models; m++) out.push(outcome(t, new Int32Array(t.n).fill(m)));
  return out;
}

/** Best model per query (highest score, cheapest among ties). */
export function oraclePicks(t: RoutingTable): Int32Array {
  const picks = new Int32Array(t.n);
  for (let i = 0; i < t.n; i++) {
    let arg = 0;
    for (let m = 1; m < t.models; m++) {
      const s = t.trueScore[i * t.models + m]!;
      const b = t.trueScore[i * t.models + arg]!;
      if (s > b || (s === b && t.trueCost[i * t.models + m]! < t.trueCost[i * t.models + arg]!)) arg = m;
    }
    picks[i] = arg;
  }
  return picks;
}
