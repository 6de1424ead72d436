import { describe, expect, it } from 'vitest';
import { HashingEncoder } from '../encoder/index.ts';
import { ConcatEncoder, WordVectorEncoder } from './word-vectors.ts';

const vecs: Record<string, number[]> = { salary: [1, 0, 0], wage: [0.9, 0.1, 0], rain: [0, 0, 1] };
const wv = new WordVectorEncoder('toy', 3, (w) => vecs[w]);
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('agents word vectors', () => {
  it('agents word vectors - related words are close, unknown words are ignored', () => {
    expect(dot(wv.encode('my salary'), wv.encode('the wage'))).toBeGreaterThan(0.9);
    expect(dot(wv.encode('salary'), wv.encode('rain'))).toBeCloseTo(0);
    expect(Array.from(wv.encode('zzz'))).toEqual([0, 0, 0]);
  });

  it('agents word vectors - concatenation is normalised and mixes both similarities', () => {
    const h = HashingEncoder.fit(['my salary', 'the wage', 'rain'], { dim: 64 });
    const c = new ConcatEncoder([{ encoder: h, weight: 0.5 }, { encoder: wv, weight: 0.5 }]);
    const v = c.encode('my salary');
    expect(c.dim).toBe(67);
    expect(dot(v, v)).toBeCloseTo(1, 5);
    expect(dot(c.encode('salary'), c.encode('wage'))).toBeGreaterThan(dot(h.encode('salary'), h.encode('wage')));
  });
});
