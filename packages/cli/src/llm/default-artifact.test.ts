import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLlmRouter } from '@moma/core';
import { readArtifactDir } from './artifact-files.ts';
import { semanticEncoderFor } from './encoders.ts';

const dir = fileURLToPath(new URL('../../../../artifacts/default', import.meta.url));

describe('default artifact - committed and trained', () => {
  it('default - loads, names the 9 LLMRouter models with prices, and routes by mode', async () => {
    const a = readArtifactDir(dir);
    expect(a.models).toHaveLength(9);
    expect(a.training.dataset).toBe('llmrouter-dcrouter');
    // The encoder the artifact records (a semantic section needs @moma/semantic's static encoder).
    const semantic = await semanticEncoderFor(a);
    if (a.semantic) expect(() => createLlmRouter(a)).toThrow(/semantic encoder/);
    const router = createLlmRouter(a, semantic ? { semantic } : {});
    const text = 'Write a python function that returns the n-th Fibonacci number.';
    const quality = router.route({ text }, { mode: 'quality' });
    const cost = router.route({ text }, { mode: 'cost' });
    expect(quality.ranked).toHaveLength(9);
    expect(cost.ranked[0]!.predictedCostUsd).toBeLessThanOrEqual(quality.ranked[0]!.predictedCostUsd);
    expect(quality.routerVersion).toBe(a.version);
  });
});
