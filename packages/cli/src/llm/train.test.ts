import { fileURLToPath } from 'node:url';
import { createLlmRouter, decodeArtifact, encodeArtifact } from '@moma/core';
import { type TrainSet, trainHead } from '@moma/core/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load.ts';
import { initTf } from '../tf.ts';
import { evaluate } from './evaluate.ts';

beforeAll(async () => {
  await initTf('cpu');
});

/** Two clusters of inputs; model 0 is right on the first, model 1 on the second. */
function toySet(n = 64, dim = 16): TrainSet {
  const X = new Float32Array(n * dim);
  const Y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    X[i * dim + c] = 1;
    X[i * dim + 2 + (i % 5)] = 0.5;
    Y[i * 2] = c === 0 ? 1 : 0;
    Y[i * 2 + 1] = c === 0 ? 0 : 1;
  }
  return { n, dim, models: 2, X, Y };
}

describe('training - heads learn', () => {
  for (const [kind, objective] of [['linear', 'pointwise'], ['mlp', 'pointwise'], ['moe', 'pointwise'], ['mlp', 'pairwise'], ['moe', 'pairwise']] as const) {
    it(`${kind}/${objective} - training lowers the loss`, () => {
      const res = trainHead(toySet(), { kind, objective, hidden: 8, experts: 2, epochs: 25, batchSize: 16, learningRate: 0.05 });
      expect(res.losses.at(-1)!).toBeLessThan(res.losses[0]! * 0.7);
      expect(res.head.kind).toBe(kind);
    });
  }
});

describe('evaluation - end to end on a small LLMRouter excerpt', () => {
  it('evaluate - reports AIQ beside every baseline and yields a loadable artifact', () => {
    const ds = loadDataset(fileURLToPath(new URL('../data/fixtures/llmrouter-excerpt.jsonl', import.meta.url)));
    const { result, trained } = evaluate(ds, {
      dim: 512,
      seed: 1,
      knnK: 5,
      heads: [
        { name: 'linear', train: { kind: 'linear', epochs: 3 } },
        { name: 'mlp', train: { kind: 'mlp', hidden: 8, epochs: 3 } },
      ],
    });
    const g = result.evals[0]!;
    expect(g.queries).toBeGreaterThan(0);
    for (const v of [g.router.aiq, g.baselines.zero.aiq, g.baselines.knn.aiq, g.baselines.mlp.aiq, g.baselines.random.aiq, g.baselines.oracle.aiq]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(g.baselines.oracle.quality).toBeGreaterThanOrEqual(g.baselines.bestSingle.quality);
    const { manifest, weights } = encodeArtifact(trained.artifact);
    const router = createLlmRouter(decodeArtifact(manifest, weights));
    expect(router.route({ text: 'What is 2 + 2?' }, { mode: 'balanced' }).ranked).toHaveLength(9);
  });
});
