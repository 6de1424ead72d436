import { describe, expect, it } from 'vitest';
import { HashingEncoder } from '../encoder/index.ts';
import { SparseHashingEncoder } from './sparse-encoder.ts';

describe('agents sparse encoder', () => {
  it('agents sparse encoder - gives the same vector as the dense HashingEncoder', () => {
    const texts = ['book a table for two', 'what is the weather in Zürich', 'transfer $100 to savings', 'a a a b b', ''];
    for (const opts of [{ dim: 256 }, { dim: 4096, wordNgrams: 3, charNgrams: [2, 4] as [number, number] }, { dim: 64, charNgrams: [0, 0] as [number, number] }]) {
      const dense = HashingEncoder.fit(texts, opts);
      const sparse = new SparseHashingEncoder(dense.state, dense.id);
      for (const t of [...texts, 'unseen words here', 'weather weather weather']) {
        const d = dense.encode(t);
        const s = sparse.encode(t);
        for (let i = 0; i < d.length; i++) expect(s[i]).toBeCloseTo(d[i]!, 5);
      }
    }
  });
});
