import type { Encoder } from '../encoder/index.ts';

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Averages pretrained word vectors (e.g. GloVe) over a text's words: gives the router synonyms the cards never
 * mention ("wage" ≈ "salary"). The lookup is injected so core does no I/O; callers load the vectors.
 */
export class WordVectorEncoder implements Encoder {
  readonly id: string;
  readonly dim: number;
  private readonly lookup: (word: string) => ArrayLike<number> | undefined;
  private readonly weight: (word: string) => number;

  constructor(id: string, dim: number, lookup: (word: string) => ArrayLike<number> | undefined, weight: (word: string) => number = () => 1) {
    this.id = `word-vectors:${id}`;
    this.dim = dim;
    this.lookup = lookup;
    this.weight = weight;
  }

  encode(text: string): Float32Array {
    const out = new Float32Array(this.dim);
    for (const w of text.toLowerCase().match(WORD) ?? []) {
      const v = this.lookup(w);
      if (!v) continue;
      const k = this.weight(w);
      for (let i = 0; i < this.dim; i++) out[i]! += k * v[i]!;
    }
    return normalize(out);
  }
}

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  if (n > 0) {
    const inv = 1 / Math.sqrt(n);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}

/**
 * Concatenates encoders, each part scaled by sqrt(weight) so cosine similarity is the weighted mean of the parts'
 * similarities. Lets a sparse lexical encoder and a dense semantic one vote together.
 */
export class ConcatEncoder implements Encoder {
  readonly id: string;
  readonly dim: number;
  private readonly parts: ReadonlyArray<{ encoder: Encoder; weight: number }>;

  constructor(parts: ReadonlyArray<{ encoder: Encoder; weight: number }>) {
    this.parts = parts;
    this.dim = parts.reduce((s, p) => s + p.encoder.dim, 0);
    this.id = `concat(${parts.map((p) => `${p.encoder.id}*${p.weight}`).join(',')})`;
  }

  encode(text: string): Float32Array {
    const out = new Float32Array(this.dim);
    const total = this.parts.reduce((s, p) => s + p.weight, 0) || 1;
    let off = 0;
    for (const { encoder, weight } of this.parts) {
      const v = encoder.encode(text);
      const k = Math.sqrt(weight / total);
      for (let i = 0; i < v.length; i++) out[off + i] = v[i]! * k;
      off += encoder.dim;
    }
    return normalize(out);
  }
}
