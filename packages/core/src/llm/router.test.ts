import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.ts';
import { createLlmRouter } from './router.ts';
import { randomArtifact } from './test-artifact.ts';

const router = createLlmRouter(randomArtifact());

describe('llm router - route', () => {
  it('route - ranks every model with costs from prices and prompt tokens', () => {
    const c = router.route({ text: 'What is the capital of France?' }, { mode: 'quality' });
    expect(c.ranked.map((r) => r.model).sort()).toEqual(['big', 'mid', 'small']);
    expect(c.routerVersion).toBe('test-1');
    const big = c.ranked.find((r) => r.model === 'big')!;
    const small = c.ranked.find((r) => r.model === 'small')!;
    expect(big.predictedCostUsd).toBeGreaterThan(small.predictedCostUsd);
    for (const r of c.ranked) expect(r.predictedQuality).toBeGreaterThanOrEqual(0);
    expect(c.reason).toMatch(/quality mode/);
  });

  it('modes - cost mode never picks a costlier model than quality mode', () => {
    const text = 'Prove that the square root of two is irrational.';
    const q = router.route({ text }, { mode: 'quality' }).ranked[0]!;
    const k = router.route({ text }, { mode: 'cost' }).ranked[0]!;
    expect(k.predictedCostUsd).toBeLessThanOrEqual(q.predictedCostUsd);
    expect(k.model).toBe('small');
  });

  it('willingness to pay - overrides the mode preset', () => {
    const c = router.route({ text: 'hello there' }, { mode: 'quality', willingnessToPay: 1e-9 });
    expect(c.ranked[0]!.model).toBe('small');
  });

  it('context - longer history costs more prompt tokens', () => {
    const a = router.route({ text: 'and then?' }, { mode: 'cost' }).ranked[0]!;
    const b = router.route({ text: 'and then?', context: [{ role: 'user', content: 'tell me a long story '.repeat(50) }] }, { mode: 'cost' }).ranked[0]!;
    expect(b.predictedCostUsd).toBeGreaterThan(a.predictedCostUsd);
  });
});

describe('llm router - bad input', () => {
  it('route - empty query, unknown model, negative max cost, min quality outside [0, 1]', () => {
    expect(() => router.route({ text: '  ' }, { mode: 'quality' })).toThrow(/query text is empty/);
    expect(() => router.route({ text: 'hi' }, { mode: 'quality', allowedModels: ['gpt-5'] })).toThrow(InvalidInputError);
    expect(() => router.route({ text: 'hi' }, { mode: 'quality', maxCostUsd: -0.01 })).toThrow(/maxCostUsd/);
    expect(() => router.route({ text: 'hi' }, { mode: 'quality', minQuality: -0.1 })).toThrow(/minQuality/);
  });
});
