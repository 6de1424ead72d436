import { describe, expect, it } from 'vitest';
import { HashingEncoder, type Encoder } from '../encoder/index.ts';
import { InvalidInputError } from '../errors.ts';
import { decodeArtifact, encodeArtifact } from './artifact.ts';
import { FusedEncoder, featureDim, routerEncoder } from './features.ts';
import { createLlmRouter } from './router.ts';
import { randomArtifact } from './test-artifact.ts';
import type { RouterArtifact } from './types.ts';

/** A deterministic stand-in for the static encoder: L2-normalised letter counts folded into `dim` slots. */
function fakeSemantic(dim = 16, id = 'fake-semantic@1'): Encoder {
  return {
    id,
    dim,
    encode(text: string): Float32Array {
      const v = new Float32Array(dim);
      for (const ch of text.toLowerCase()) v[ch.charCodeAt(0) % dim]! += 1;
      const n = Math.hypot(...v);
      return n > 0 ? v.map((x) => x / n) : v;
    },
  };
}

/** randomArtifact's heads re-shaped to the fused feature size, with a semantic section. */
function semanticArtifact(weight: number, sem = fakeSemantic()): RouterArtifact {
  const base = randomArtifact({ dim: 32 });
  const semantic = { id: sem.id, dim: sem.dim, weight };
  const inDim = featureDim({ encoder: base.encoder, semantic });
  const wide = randomArtifact({ dim: inDim });
  return { ...wide, encoder: base.encoder, semantic };
}

describe('features - fused lexical + semantic vector', () => {
  it('FusedEncoder - concat(lexical·√(1−w), semantic·√w), unit norm; w = 1 drops the lexical part', () => {
    const lex = HashingEncoder.fit(['write code', 'prove the theorem'], { dim: 32 });
    const sem = fakeSemantic();
    const text = 'write code to prove it';
    const f = new FusedEncoder(lex, sem, 0.25);
    expect(f.dim).toBe(48);
    const v = f.encode(text);
    const l = lex.encode(text);
    const s = sem.encode(text);
    expect(v[3]).toBeCloseTo(l[3]! * Math.sqrt(0.75), 6);
    expect(v[32 + 5]).toBeCloseTo(s[5]! * 0.5, 6);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    const only = new FusedEncoder(lex, sem, 1);
    expect(only.dim).toBe(16);
    expect(Array.from(only.encode(text))).toEqual(Array.from(s));
    expect(() => new FusedEncoder(lex, sem, 0)).toThrow(InvalidInputError);
  });

  it('semantic artifact - round trip keeps the section and routes the same', () => {
    const sem = fakeSemantic();
    for (const weight of [0.5, 1]) {
      const a = semanticArtifact(weight, sem);
      const { manifest, weights } = encodeArtifact(a);
      expect(manifest.semantic).toEqual({ id: sem.id, dim: 16, weight });
      const b = decodeArtifact(JSON.parse(JSON.stringify(manifest)), weights);
      expect(b.semantic).toEqual(a.semantic);
      const input = { text: 'Write a function that sorts a list' };
      const ra = createLlmRouter(a, { semantic: sem }).route(input, { mode: 'balanced' });
      const rb = createLlmRouter(b, { semantic: sem }).route(input, { mode: 'balanced' });
      expect(rb.ranked).toEqual(ra.ranked);
    }
  });

  it('semantic artifact - the semantic part moves the prediction (it is not ignored)', () => {
    const a = semanticArtifact(0.5);
    const q1 = createLlmRouter(a, { semantic: fakeSemantic() }).route({ text: 'zzzz qqqq' }, { mode: 'quality' }).ranked;
    const other = { ...fakeSemantic(), encode: () => new Float32Array(16).fill(0.25) };
    const q2 = createLlmRouter(a, { semantic: other }).route({ text: 'zzzz qqqq' }, { mode: 'quality' }).ranked;
    expect(q1.map((r) => r.predictedQuality)).not.toEqual(q2.map((r) => r.predictedQuality));
  });

  it('mismatch - refuses a semantic artifact without an encoder, or with another id or size', () => {
    const a = semanticArtifact(0.5);
    expect(() => createLlmRouter(a)).toThrow(InvalidInputError);
    expect(() => createLlmRouter(a)).toThrow(/trained with the semantic encoder fake-semantic@1.*pass it/);
    expect(() => createLlmRouter(a, { semantic: fakeSemantic(16, 'another@2') })).toThrow(/fake-semantic@1, but another@2 was given/);
    expect(() => createLlmRouter(a, { semantic: fakeSemantic(8) })).toThrow(/dim 8; the artifact expects 16/);
  });

  it('decode - heads must take the fused feature size; the weight must be in (0, 1]', () => {
    const { manifest, weights } = encodeArtifact(semanticArtifact(0.5));
    expect(() => decodeArtifact({ ...manifest, semantic: { id: 'fake-semantic@1', dim: 17, weight: 0.5 } }, weights)).toThrow(/input size 48 ≠ feature size 49/);
    expect(() => decodeArtifact({ ...manifest, semantic: { id: 'fake-semantic@1', dim: 16, weight: 0 } }, weights)).toThrow(/malformed at semantic.weight/);
    expect(() => decodeArtifact({ ...manifest, semantic: { id: 'fake-semantic@1', dim: 16, weight: 1.5 } }, weights)).toThrow(/malformed at semantic.weight/);
  });

  it('old artifact (no semantic section) - unchanged: manifest has no section, an encoder given is ignored', () => {
    const a = randomArtifact();
    const { manifest, weights } = encodeArtifact(a);
    expect('semantic' in manifest).toBe(false);
    const b = decodeArtifact(JSON.parse(JSON.stringify(manifest)), weights);
    expect(b.semantic).toBeUndefined();
    expect(routerEncoder(b).id).toBe(new HashingEncoder(a.encoder).id);
    const input = { text: 'Summarise this contract' };
    const plain = createLlmRouter(b).route(input, { mode: 'quality' });
    const withSem = createLlmRouter(b, { semantic: fakeSemantic() }).route(input, { mode: 'quality' });
    expect(withSem.ranked).toEqual(plain.ranked);
  });
});
