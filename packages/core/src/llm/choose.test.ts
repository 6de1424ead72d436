import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.ts';
import { choose, paretoFront, validateOptions, type Candidate } from './choose.ts';

const cands: Candidate[] = [
  { model: 'big', quality: 0.9, costUsd: 0.01 },
  { model: 'mid', quality: 0.8, costUsd: 0.002 },
  { model: 'small', quality: 0.6, costUsd: 0.0005 },
  { model: 'bad', quality: 0.55, costUsd: 0.003 },
];
const names = cands.map((c) => c.model);

describe('choice - Pareto front', () => {
  it('front - excludes a model beaten on both quality and cost', () => {
    const front = paretoFront(cands);
    expect([...front].map((i) => cands[i]!.model).sort()).toEqual(['big', 'mid', 'small']);
  });
});

describe('choice - modes and willingness to pay', () => {
  it('quality - a high willingness to pay picks the best predicted quality', () => {
    const c = choose(cands, { mode: 'quality' }, 100);
    expect(c.ranked[0]!.model).toBe('big');
    expect(c.ranked).toHaveLength(4);
  });

  it('balanced - a moderate willingness to pay trades quality for cost', () => {
    // utility at wtp 0.05: big 0.9−0.2 = 0.7, mid 0.8−0.04 = 0.76, small 0.6−0.01 = 0.59.
    expect(choose(cands, { mode: 'balanced' }, 0.05).ranked[0]!.model).toBe('mid');
  });

  it('cost - a low willingness to pay picks the cheapest', () => {
    expect(choose(cands, { mode: 'cost' }, 0.001).ranked[0]!.model).toBe('small');
  });

  it('ranking - is ordered by utility and marks the front', () => {
    const c = choose(cands, { mode: 'balanced' }, 0.05);
    const u = c.ranked.map((r) => r.utility);
    expect([...u].sort((a, b) => b - a)).toEqual(u);
    expect(c.ranked.find((r) => r.model === 'bad')!.onFront).toBe(false);
    expect(c.reason).toContain('mid');
  });
});

describe('choice - limits', () => {
  it('allowed and denied models - restrict the ranking', () => {
    const c = choose(cands, { mode: 'quality', allowedModels: ['big', 'small'], deniedModels: ['big'] }, 100);
    expect(c.ranked.map((r) => r.model)).toEqual(['small']);
  });

  it('max cost and min quality - filter candidates', () => {
    expect(choose(cands, { mode: 'quality', maxCostUsd: 0.0025 }, 100).ranked[0]!.model).toBe('mid');
    expect(choose(cands, { mode: 'cost', minQuality: 0.7 }, 0.001).ranked[0]!.model).toBe('mid');
  });

  it('unsatisfiable limits - throw InvalidInputError naming the limit', () => {
    expect(() => choose(cands, { mode: 'cost', maxCostUsd: 0.0001 }, 1)).toThrow(/maxCostUsd/);
    expect(() => choose(cands, { mode: 'cost', minQuality: 0.95 }, 1)).toThrow(InvalidInputError);
  });
});

describe('choice - bad input', () => {
  it('validate - rejects unknown models, negative max cost, min quality outside [0, 1], bad mode', () => {
    expect(() => validateOptions({ mode: 'quality', allowedModels: ['gpt-9'] }, names)).toThrow(/unknown model "gpt-9"/);
    expect(() => validateOptions({ mode: 'quality', deniedModels: ['nope'] }, names)).toThrow(InvalidInputError);
    expect(() => validateOptions({ mode: 'quality', maxCostUsd: -1 }, names)).toThrow(/maxCostUsd must be ≥ 0/);
    expect(() => validateOptions({ mode: 'quality', minQuality: 1.5 }, names)).toThrow(/minQuality/);
    expect(() => validateOptions({ mode: 'fast' as 'quality' }, names)).toThrow(/mode must be one of/);
    expect(() => validateOptions({ mode: 'balanced', willingnessToPay: 0 }, names)).toThrow(/willingnessToPay/);
    expect(() => validateOptions({ mode: 'balanced', allowedModels: ['big'], maxCostUsd: 0, minQuality: 0 }, names)).not.toThrow();
  });
});
