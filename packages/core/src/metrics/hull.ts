/** A router's operating point: mean cost per query and mean quality. */
export interface CostQuality {
  cost: number;
  quality: number;
}

function cross(o: CostQuality, a: CostQuality, b: CostQuality): number {
  return (a.cost - o.cost) * (b.quality - o.quality) - (a.quality - o.quality) * (b.cost - o.cost);
}

/**
 * Non-decreasing convex hull (RouterBench): the upper concave envelope of the points (any two operating points
 * can be mixed at random, so everything under a chord is reachable), sorted by cost, cut where quality stops
 * rising. Starts at the cheapest point.
 */
export function nonDecreasingHull(points: readonly CostQuality[]): CostQuality[] {
  const finite = points.filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.quality));
  // Same cost: only the best quality matters.
  const byCost = new Map<number, number>();
  for (const p of finite) byCost.set(p.cost, Math.max(byCost.get(p.cost) ?? -Infinity, p.quality));
  const pts = [...byCost].map(([cost, quality]) => ({ cost, quality })).sort((a, b) => a.cost - b.cost);
  const upper: CostQuality[] = [];
  for (const p of pts) {
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) >= 0) upper.pop();
    upper.push(p);
  }
  const out: CostQuality[] = [];
  for (const p of upper) {
    if (out.length > 0 && p.quality < out[out.length - 1]!.quality) break;
    out.push(p);
  }
  return out;
}

/** Lowest cost at which the hull reaches a quality; undefined if it never does. */
export function hullCostFor(hull: readonly CostQuality[], quality: number): number | undefined {
  if (hull.length === 0) return undefined;
  if (hull[0]!.quality >= quality) return hull[0]!.cost;
  for (let i = 1; i < hull.length; i++) {
    const a = hull[i - 1]!;
    const b = hull[i]!;
    if (b.quality >= quality) return a.cost + ((b.cost - a.cost) * (quality - a.quality)) / (b.quality - a.quality);
  }
  return undefined;
}
