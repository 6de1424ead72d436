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

describe('artifact - pool changes without retraining', () => {
  it('derived and removed models - round trip; a derived model is ranked from the trained ones, a removed one never', () => {
    const a = randomArtifact();
    const M = a.models.length;
    const first = a.models[0]!;
    const derived = { id: 'onboarded', inputPricePerMTok: 0.5, outputPricePerMTok: 1, outputTokens: 100, weights: Array.from({ length: M }, (_, i) => (i === 0 ? 1 : 0)), bias: 0.05, anchors: 50, anchorMae: 0.1 };
    const withPool = { ...a, derived: [derived], removed: [a.models[1]!.id] };
    const { manifest, weights } = encodeArtifact(withPool);
    const b = decodeArtifact(JSON.parse(JSON.stringify(manifest)), weights);
    expect(b.derived).toEqual([derived]);
    expect(b.removed).toEqual([a.models[1]!.id]);
    const router = createLlmRouter(b);
    expect(router.models.map((m) => m.id)).toEqual([first.id, ...a.models.slice(2).map((m) => m.id), 'onboarded']);
    const ranked = router.route({ text: 'Summarise this contract' }, { mode: 'quality' }).ranked;
    const q = Object.fromEntries(ranked.map((r) => [r.model, r.predictedQuality]));
    expect(q.onboarded).toBeCloseTo(Math.min(1, q[first.id]! + 0.05), 5);
    expect(q[a.models[1]!.id]).toBeUndefined();
  });

  it('derived and removed models - malformed entries are named', () => {
    const a = randomArtifact();
    const { manifest, weights } = encodeArtifact(a);
    const bad = (extra: Record<string, unknown>) => () => decodeArtifact({ ...JSON.parse(JSON.stringify(manifest)), ...extra }, weights);
    const d = { id: 'x', inputPricePerMTok: 0, outputPricePerMTok: 0, outputTokens: 0, weights: [1], bias: 0, anchors: 1, anchorMae: 0 };
    expect(bad({ derived: [d] })).toThrow(/derived model x has 1 weights/);
    expect(bad({ removed: ['nobody'] })).toThrow(/removes nobody/);
    expect(bad({ derived: [{ ...d, id: a.models[0]!.id, weights: a.models.map(() => 0) }] })).toThrow(/listed twice/);
  });
});
