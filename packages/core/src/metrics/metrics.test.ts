import { describe, expect, it } from 'vitest';
import { aiq, apgr, cpt, hullCostFor, nonDecreasingHull, twoModelCurve } from './index.ts';

describe('metrics - non-decreasing convex hull', () => {
  it('hull - drops points under a chord and points after the peak', () => {
    // (2, 0.5) lies under the chord from (1, 0.4) to (3, 0.8) (0.6 at cost 2); (4, 0.7) comes after the peak.
    const hull = nonDecreasingHull([
      { cost: 3, quality: 0.8 },
      { cost: 1, quality: 0.4 },
      { cost: 2, quality: 0.5 },
      { cost: 4, quality: 0.7 },
    ]);
    expect(hull).toEqual([
      { cost: 1, quality: 0.4 },
      { cost: 3, quality: 0.8 },
    ]);
  });

  it('hull - keeps a point above the chord and the best quality at equal cost', () => {
    const hull = nonDecreasingHull([
      { cost: 1, quality: 0.4 },
      { cost: 2, quality: 0.7 },
      { cost: 2, quality: 0.6 },
      { cost: 3, quality: 0.8 },
    ]);
    expect(hull.map((p) => p.quality)).toEqual([0.4, 0.7, 0.8]);
  });

  it('hull - interpolates the cost for a quality', () => {
    const hull = [
      { cost: 1, quality: 0.4 },
      { cost: 3, quality: 0.8 },
    ];
    expect(hullCostFor(hull, 0.7)).toBeCloseTo(2.5);
    expect(hullCostFor(hull, 0.9)).toBeUndefined();
  });
});

describe('metrics - AIQ', () => {
  it('aiq - trapezoid area from the first point, flat to max cost, over max cost', () => {
    // Area: (0.4+0.8)/2·2 = 1.2 on [1, 3], 0.8·1 = 0.8 on [3, 4]; nothing on [0, 1]. AIQ = 2.0 / 4 = 0.5.
    expect(aiq([{ cost: 1, quality: 0.4 }, { cost: 3, quality: 0.8 }], 4)).toBeCloseTo(0.5);
  });

  it('aiq - a single point is a flat line from its cost', () => {
    expect(aiq([{ cost: 2, quality: 0.6 }], 4)).toBeCloseTo(0.3);
  });

  it('aiq - a dominating curve scores higher', () => {
    const a = aiq([{ cost: 1, quality: 0.5 }, { cost: 2, quality: 0.9 }], 3);
    const b = aiq([{ cost: 1, quality: 0.5 }, { cost: 3, quality: 0.9 }], 3);
    expect(a).toBeGreaterThan(b);
  });
});

describe('metrics - APGR and CPT', () => {
  // 4 queries: the strong model wins on q0 and q1 only; weak 0.25, strong 0.75 accuracy.
  const strong = [1, 1, 0, 1];
  const weak = [0, 0, 0, 1];

  it('apgr - a perfect router sends the strong model the queries it wins first', () => {
    const curve = twoModelCurve([0.9, 0.8, 0.1, 0.2], strong, weak);
    expect(curve.pgr).toEqual([0, 0.5, 1, 1, 1]);
    // Trapezoids over steps of 0.25: ((0+0.5)/2 + (0.5+1)/2 + 1 + 1) × 0.25 = 3 × 0.25 = 0.75.
    expect(apgr(curve)).toBeCloseTo(0.75);
    expect(cpt(curve, 0.5)).toBeCloseTo(0.25);
    expect(cpt(curve, 0.8)).toBeCloseTo(0.5);
  });

  it('apgr - the worst ordering gets the least', () => {
    const curve = twoModelCurve([0.1, 0.2, 0.9, 0.8], strong, weak);
    expect(curve.pgr).toEqual([0, 0, 0, 0.5, 1]);
    expect(apgr(curve)).toBeCloseTo(0.25 * (0 + 0 + 0.25 + 0.75));
    expect(cpt(curve, 0.5)).toBeCloseTo(0.75);
  });
});
