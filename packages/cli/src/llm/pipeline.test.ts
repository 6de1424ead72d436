import { outcome, pickAtWtp, type RoutingTable, singleModelPoints } from '@moma/core';
import { describe, expect, it } from 'vitest';
import { calibrateModes } from './pipeline.ts';

/**
 * Three models on 40 queries: "big" ($1.00) is right on 36; "cheap" ($0.01) is right on 30, on 28 of which "big"
 * is also right. The predictions know which queries "cheap" gets right, so a mix beats "big" for less.
 */
function table(): RoutingTable {
  const n = 40;
  const M = 3;
  const t: RoutingTable = {
    n,
    models: M,
    predQuality: new Float32Array(n * M),
    predCost: new Float32Array(n * M),
    trueScore: new Float32Array(n * M),
    trueCost: new Float32Array(n * M),
  };
  for (let i = 0; i < n; i++) {
    const big = i < 36 ? 1 : 0;
    const cheap = i < 28 || i >= 38 ? 1 : 0;
    const mid = i % 2;
    const scores = [big, cheap, mid];
    const costs = [1, 0.01, 0.5];
    const preds = [0.9, cheap ? 0.95 : 0.05, 0.5];
    for (let m = 0; m < M; m++) {
      t.trueScore[i * M + m] = scores[m]!;
      t.trueCost[i * M + m] = costs[m]!;
      t.predCost[i * M + m] = costs[m]!;
      t.predQuality[i * M + m] = preds[m]!;
    }
  }
  return t;
}

describe('calibrateModes - quality preset', () => {
  it('calibrateModes - quality mode reaches the best single model quality, cheaper than it when the router can', () => {
    const t = table();
    const best = singleModelPoints(t).reduce((a, b) => (b.quality > a.quality ? b : a));
    const q = outcome(t, pickAtWtp(t, calibrateModes(t).quality));
    expect(q.quality).toBeGreaterThanOrEqual(best.quality);
    expect(q.cost).toBeLessThan(best.cost);
  });

  it('calibrateModes - quality mode does not settle half a point below the best single model', () => {
    // 400 queries, "big" right on 360. On 4 queries the router rates "cheap" nearly as high as "big" and is wrong
    // once, so a middling wtp costs one query (0.25 points): within half a point of the best, below the best model.
    const n = 400;
    const M = 2;
    const t: RoutingTable = { n, models: M, predQuality: new Float32Array(n * M), predCost: new Float32Array(n * M), trueScore: new Float32Array(n * M), trueCost: new Float32Array(n * M) };
    for (let i = 0; i < n; i++) {
      const row = [
        { score: i < 360 ? 1 : 0, cost: 1, pred: 0.9 },
        { score: i < 3 || (i >= 4 && i % 2 === 0) ? 1 : 0, cost: 0.01, pred: i < 4 ? 0.89 : 0.05 },
      ];
      row.forEach((m, j) => {
        t.trueScore[i * M + j] = m.score;
        t.trueCost[i * M + j] = m.cost;
        t.predCost[i * M + j] = m.cost;
        t.predQuality[i * M + j] = m.pred;
      });
    }
    const best = singleModelPoints(t).reduce((a, b) => (b.quality > a.quality ? b : a));
    const modes = calibrateModes(t);
    expect(outcome(t, pickAtWtp(t, modes.quality)).quality).toBeGreaterThanOrEqual(best.quality);
    expect(modes.cost).toBeLessThanOrEqual(modes.balanced);
    expect(modes.balanced).toBeLessThanOrEqual(modes.quality);
  });
});
