import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { featureDim, type RouterArtifact } from '@moma/core';
import { loadStaticEncoder } from '@moma/semantic';
import { loadRouter } from './artifact.ts';
import { syntheticArtifact, writeArtifact } from './test-support.ts';

/** The synthetic artifact with a semantic section: its linear head widened to the fused feature size. */
function semanticArtifact(id: string, weight: number): RouterArtifact {
  const a = syntheticArtifact('semantic-1');
  const semantic = { id, dim: 512, weight };
  const dim = featureDim({ encoder: a.encoder, semantic });
  const W = Float32Array.from({ length: dim * 3 }, (_, i) => Math.sin(i) * 0.5);
  return { ...a, semantic, heads: [{ ...a.heads[0]!, tensors: { W: { shape: [dim, 3], data: W }, b: a.heads[0]!.tensors.b! } }] };
}

describe('loadRouter - semantic artifacts', () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), 'moma-scoring-sem-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('semantic section - loads the static encoder and routes; the semantic vector moves the prediction', async () => {
    const { id } = await loadStaticEncoder();
    for (const weight of [0.5, 1]) {
      const router = await loadRouter(await writeArtifact(await tmp(), semanticArtifact(id, weight)));
      const a = router.route({ text: 'Write a python function that reverses a string' }, { mode: 'quality' });
      const b = router.route({ text: 'Who wrote the Iliad?' }, { mode: 'quality' });
      expect(a.ranked).toHaveLength(3);
      expect(a.ranked.map((r) => r.predictedQuality)).not.toEqual(b.ranked.map((r) => r.predictedQuality));
    }
  });

  it('semantic section - another encoder id is refused with a clear message', async () => {
    const dir = await writeArtifact(await tmp(), semanticArtifact('some-other-encoder@9', 1));
    await expect(loadRouter(dir)).rejects.toThrow(/trained with the semantic encoder some-other-encoder@9, but static\(.*\)@\d+ was given/);
  });
});
