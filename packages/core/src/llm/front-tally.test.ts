import { describe, expect, it } from 'vitest';
import { FrontTally } from './front-tally.ts';
import type { LlmChoice } from './types.ts';

const choice = (mode: LlmChoice['mode'], rows: Array<[string, number, number]>): LlmChoice => ({
  mode,
  reason: '',
  routerVersion: 'v',
  ranked: rows.map(([model, q, c]) => ({ model, predictedQuality: q, predictedCostUsd: c, utility: q, onFront: true })),
});

describe('FrontTally', () => {
  it('front tally - means per model, the Pareto front of the means, each mode where its choices landed, the best model', () => {
    const t = new FrontTally();
    t.add(choice('quality', [['big', 0.9, 0.01], ['mid', 0.7, 0.002], ['bad', 0.5, 0.004]]));
    t.add(choice('cost', [['mid', 0.5, 0.002], ['big', 0.7, 0.03], ['bad', 0.3, 0.004]]));
    const s = t.summary();
    expect(s.bestModel).toBe('big');
    expect(s.models.map((m) => [m.id, m.onFront, m.requests])).toEqual([['mid', true, 2], ['bad', false, 2], ['big', true, 2]]);
    expect(s.models.find((m) => m.id === 'big')).toMatchObject({ quality: 0.8, costUsd: 0.02 });
    expect(s.modes).toEqual([
      { id: 'quality', quality: 0.9, costUsd: 0.01, onFront: false, requests: 1 },
      { id: 'cost', quality: 0.5, costUsd: 0.002, onFront: false, requests: 1 },
    ]);
    expect(new FrontTally().summary()).toEqual({ models: [], modes: [], bestModel: '' });
  });
});
