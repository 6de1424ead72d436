import { HashingEncoder } from '../encoder/index.ts';
import { rng } from '../random.ts';
import type { HeadSpec, RouterArtifact, Tensor } from './types.ts';

/** A small artifact with seeded random weights (for tests and benchmarks; not a trained router). */
export function randomArtifact(opts: { models?: string[]; dim?: number; hidden?: number; seed?: number } = {}): RouterArtifact {
  const models = opts.models ?? ['big', 'mid', 'small'];
  const dim = opts.dim ?? 256;
  const H = opts.hidden ?? 8;
  const M = models.length;
  const rand = rng(opts.seed ?? 3);
  const t = (...shape: number[]): Tensor => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() - 0.5) });
  const encoder = HashingEncoder.fit(['write code', 'what is the capital of France', 'prove the theorem'], { dim, wordNgrams: 2, charNgrams: [3, 4] });
  const heads: HeadSpec[] = [
    { kind: 'linear', objective: 'pointwise', weight: 1, tensors: { W: t(dim, M), b: t(M) } },
    { kind: 'mlp', objective: 'pointwise', weight: 1, tensors: { W1: t(dim, H), b1: t(H), W2: t(H, M), b2: t(M) } },
    { kind: 'moe', objective: 'pairwise', weight: 2, tensors: { W1: t(dim, H), b1: t(H), Wg: t(H, 2), bg: t(2), We: t(2, H, M), be: t(2, M) } },
  ];
  return {
    name: 'test',
    version: 'test-1',
    encoder: encoder.state,
    models: models.map((id, i) => ({ id, inputPricePerMTok: 10 / (i + 1) ** 2, outputPricePerMTok: 30 / (i + 1) ** 2, outputTokens: 100 })),
    heads,
    modes: { quality: 1e6, balanced: 0.01, cost: 1e-5 },
    training: { note: 'random weights' },
  };
}
