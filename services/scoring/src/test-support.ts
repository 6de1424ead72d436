// Test helpers (imported by *.test.ts only): a bus that namespaces every subject, so test files sharing one NATS
// never answer each other's requests, and small synthetic router artifacts written to temp directories.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeArtifact, type RouterArtifact } from '@moma/core';
import type { Bus } from '@moma/platform';
export { prefixedBus } from '@moma/testkit';

/** A tiny valid artifact: 3 models with distinct prices, a seeded linear head over a 64-bucket hashing encoder. */
export function syntheticArtifact(version: string, seed = 7): RouterArtifact {
  const dim = 64;
  const models = [
    { id: 'small', inputPricePerMTok: 0.1, outputPricePerMTok: 0.2, outputTokens: 200 },
    { id: 'medium', inputPricePerMTok: 1, outputPricePerMTok: 2, outputTokens: 250 },
    { id: 'large', inputPricePerMTok: 10, outputPricePerMTok: 30, outputTokens: 300 },
  ];
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const W = Float32Array.from({ length: dim * models.length }, rnd);
  const b = Float32Array.from([-0.5, 0, 0.5]); // bigger models score higher on average
  return {
    name: 'synthetic',
    version,
    encoder: { kind: 'hashing-tfidf', dim, wordNgrams: 1, charNgrams: [0, 0], idf: Array.from({ length: dim }, () => 1) },
    models,
    heads: [{ kind: 'linear', objective: 'pointwise', weight: 1, tensors: { W: { shape: [dim, 3], data: W }, b: { shape: [3], data: b } } }],
    modes: { quality: 1000, balanced: 1, cost: 0.001 },
    training: { note: 'synthetic test artifact' },
  };
}

export async function writeArtifact(dir: string, artifact: RouterArtifact): Promise<string> {
  const { manifest, weights } = encodeArtifact(artifact);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  await writeFile(join(dir, 'weights.bin'), weights);
  return dir;
}
