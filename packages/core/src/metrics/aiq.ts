import { type CostQuality, nonDecreasingHull } from './hull.ts';

/**
 * Average Improvement in Quality, as RouterBench's evaluation code computes it:
 *   hull = nonDecreasingHull(points), extended flat to maxCost (the largest cost among all routers compared);
 *   AIQ = trapezoid area under the hull from its first point to maxCost, divided by maxCost.
 * The stretch below a router's cheapest point counts as zero, so a router that cannot go cheap is penalised.
 */
export function aiq(points: readonly CostQuality[], maxCost: number): number {
  const hull = nonDecreasingHull(points);
  if (hull.length === 0 || !(maxCost > 0)) return 0;
  const last = hull[hull.length - 1]!;
  const curve = last.cost < maxCost ? [...hull, { cost: maxCost, quality: last.quality }] : hull;
  let area = 0;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1]!;
    const b = curve[i]!;
    const hi = Math.min(b.cost, maxCost);
    if (hi <= a.cost) break;
    const qb = a.quality + ((b.quality - a.quality) * (hi - a.cost)) / (b.cost - a.cost);
    area += ((a.quality + qb) / 2) * (hi - a.cost);
  }
  return area / maxCost;
}
