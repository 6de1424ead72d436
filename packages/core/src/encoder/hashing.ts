import type { Encoder } from './types.ts';

/** Serializable state of a fitted hashing encoder (stored in artifacts). */
export interface HashingEncoderState {
  kind: 'hashing-tfidf';
  dim: number;
  wordNgrams: number;
  charNgrams: [number, number];
  /** IDF per hashed bucket, fitted on the training texts (1 for buckets never seen). */
  idf: number[];
}

export interface HashingEncoderOptions {
  dim?: number;
  wordNgrams?: number;
  charNgrams?: [number, number];
}

const TOKEN = /[\p{L}\p{N}]+/gu;

/** FNV-1a 32-bit; fast, stable across runs and platforms. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** FNV-1a of `<word>`'s characters [from, to) with the angle brackets, without building the substring. */
function hashGram(word: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) {
    const c = i === 0 ? 60 : i === word.length + 1 ? 62 : word.charCodeAt(i - 1);
    h ^= c;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Calls `emit(bucket, sign)` for every word n-gram and character n-gram of the text (shared with sparse encoders). */
export function hashedFeatures(text: string, dim: number, wordN: number, [cmin, cmax]: [number, number], emit: (b: number, s: number) => void): void {
  const words = text.toLowerCase().match(TOKEN) ?? [];
  for (let i = 0; i < words.length; i++) {
    let gram = '';
    for (let n = 0; n < wordN && i + n < words.length; n++) {
      gram = n === 0 ? `w:${words[i]}` : `${gram} ${words[i + n]}`;
      const h = hash(gram);
      emit(h % dim, h & 0x80000000 ? -1 : 1);
    }
    if (cmax > 0) {
      // Character n-grams of `<word>`; hashed in place because substrings dominate the cost of encoding.
      const word = words[i]!;
      const len = word.length + 2;
      for (let n = cmin; n <= cmax; n++) {
        for (let j = 0; j + n <= len; j++) {
          const h = hashGram(word, j, j + n);
          emit(h % dim, h & 0x80000000 ? -1 : 1);
        }
      }
    }
  }
}

/**
 * Hashed word and character n-grams weighted by IDF (fitted at training time), sublinear TF, L2-normalised.
 * Needs no download, so a fresh clone routes offline; signed hashing keeps collisions unbiased.
 */
export class HashingEncoder implements Encoder {
  readonly id: string;
  readonly dim: number;
  readonly state: HashingEncoderState;
  private readonly idf: Float32Array;

  constructor(state: HashingEncoderState) {
    this.state = state;
    this.dim = state.dim;
    this.idf = Float32Array.from(state.idf);
    this.id = `hashing-tfidf:${state.dim}:w${state.wordNgrams}:c${state.charNgrams.join('-')}`;
  }

  static fit(texts: readonly string[], opts: HashingEncoderOptions = {}): HashingEncoder {
    const dim = opts.dim ?? 4096;
    const wordNgrams = opts.wordNgrams ?? 2;
    const charNgrams = opts.charNgrams ?? [3, 5];
    const df = new Float64Array(dim);
    const seen = new Uint8Array(dim);
    const touched: number[] = [];
    for (const t of texts) {
      // count each bucket once per text; clear only the buckets this text touched (not all `dim` of them)
      hashedFeatures(t, dim, wordNgrams, charNgrams, (b) => {
        if (seen[b] === 0) {
          seen[b] = 1;
          touched.push(b);
        }
      });
      for (const b of touched) {
        df[b]! += 1;
        seen[b] = 0;
      }
      touched.length = 0;
    }
    const n = texts.length;
    const idf = Array.from(df, (d) => Math.log((1 + n) / (1 + d)) + 1);
    return new HashingEncoder({ kind: 'hashing-tfidf', dim, wordNgrams, charNgrams, idf });
  }

  encode(text: string): Float32Array {
    const tf = new Float32Array(this.dim);
    hashedFeatures(text, this.dim, this.state.wordNgrams, this.state.charNgrams, (b, s) => {
      tf[b]! += s;
    });
    let norm = 0;
    for (let b = 0; b < this.dim; b++) {
      const v = tf[b]!;
      if (v !== 0) {
        const w = Math.sign(v) * (1 + Math.log(Math.abs(v))) * this.idf[b]!;
        tf[b] = w;
        norm += w * w;
      }
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let b = 0; b < this.dim; b++) tf[b]! *= inv;
    }
    return tf;
  }
}
