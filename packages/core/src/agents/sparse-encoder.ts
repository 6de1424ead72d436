import type { Encoder, HashingEncoderState } from '../encoder/index.ts';
import { hashedFeatures } from '../encoder/hashing.ts';
import type { SparseVec } from './sparse.ts';

/**
 * The HashingEncoder's exact features (same state, same vector) computed sparsely: the dense encoder walks all
 * `dim` buckets per query, which at 2^15 buckets was most of a decision's time. Work here is proportional to the
 * n-grams of the text. A test pins equality with HashingEncoder.encode.
 */
export class SparseHashingEncoder implements Encoder {
  readonly id: string;
  readonly dim: number;
  private readonly state: HashingEncoderState;
  private readonly idf: Float32Array;
  private readonly scratch: Float32Array;

  constructor(state: HashingEncoderState, id: string) {
    this.state = state;
    this.dim = state.dim;
    this.id = id;
    this.idf = Float32Array.from(state.idf);
    this.scratch = new Float32Array(state.dim);
  }

  encodeSparse(text: string): SparseVec {
    const { dim, wordNgrams, charNgrams } = this.state;
    const tf = this.scratch;
    const touched: number[] = [];
    hashedFeatures(text, dim, wordNgrams, charNgrams, (b, sign) => {
      if (tf[b] === 0) touched.push(b);
      tf[b]! += sign;
    });
    // a bucket whose signed count returns to 0 mid-text may be listed twice: dedupe after sorting
    touched.sort((a, b) => a - b);
    const idx: number[] = [];
    const vals: number[] = [];
    let norm = 0;
    let last = -1;
    for (const b of touched) {
      if (b === last) continue;
      last = b;
      const v = tf[b]!;
      tf[b] = 0;
      if (v === 0) continue;
      const w = Math.sign(v) * (1 + Math.log(Math.abs(v))) * this.idf[b]!;
      idx.push(b);
      vals.push(w);
      norm += w * w;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    const val = new Float32Array(vals.length);
    for (let i = 0; i < vals.length; i++) val[i] = Math.fround(vals[i]!) * inv;
    return { idx: Uint32Array.from(idx), val };
  }

  encode(text: string): Float32Array {
    const out = new Float32Array(this.dim);
    const s = this.encodeSparse(text);
    for (let i = 0; i < s.idx.length; i++) out[s.idx[i]!] = s.val[i]!;
    return out;
  }
}
