import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.ts';
import { decodeArtifact, encodeArtifact } from './artifact.ts';
import { createLlmRouter } from './router.ts';
import { randomArtifact } from './test-artifact.ts';

describe('artifact - round trip', () => {
  it('encode then decode - same weights, models, modes and the same routing', () => {
    const a = randomArtifact();
    const { manifest, weights } = encodeArtifact(a);
    const b = decodeArtifact(JSON.parse(JSON.stringify(manifest)), weights);
    expect(b.models).toEqual(a.models);
    expect(b.modes).toEqual(a.modes);
    expect(b.heads.map((h) => h.kind)).toEqual(['linear', 'mlp', 'moe']);
    expect(Array.from(b.heads[2]!.tensors.We!.data)).toEqual(Array.from(a.heads[2]!.tensors.We!.data));
    expect(b.encoder.idf).toHaveLength(a.encoder.dim);
    const input = { text: 'Write a function that sorts a list' };
    const ra = createLlmRouter(a).route(input, { mode: 'balanced' });
    const rb = createLlmRouter(b).route(input, { mode: 'balanced' });
    expect(rb.ranked).toEqual(ra.ranked);
  });

  it('weights - are Float32 little-endian', () => {
    const a = randomArtifact();
    const { manifest, weights } = encodeArtifact(a);
    const ref = (manifest.encoder as { idf: { offset: number } }).idf;
    expect(new DataView(weights.buffer).getFloat32(ref.offset * 4, true)).toBeCloseTo(a.encoder.idf[0]!, 5);
  });
});

describe('artifact - malformed input', () => {
  const { manifest, weights } = encodeArtifact(randomArtifact());

  it('decode - rejects a wrong format, missing tensors and short weights', () => {
    expect(() => decodeArtifact({ ...manifest, format: 'other' }, weights)).toThrow(InvalidInputError);
    expect(() => decodeArtifact(null, weights)).toThrow(/manifest is malformed/);
    const heads = structuredClone(manifest.heads) as Array<{ tensors: Record<string, unknown> }>;
    delete heads[0]!.tensors.W;
    expect(() => decodeArtifact({ ...manifest, heads }, weights)).toThrow(/lacks tensor W/);
    expect(() => decodeArtifact(manifest, weights.subarray(0, 400))).toThrow(/past the end/);
    expect(() => decodeArtifact(manifest, weights.subarray(0, 6))).toThrow(/multiple of 4/);
  });
});
