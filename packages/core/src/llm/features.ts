// The router's r(q) features: the artifact's lexical (hashed TF-IDF) vector, optionally fused with a semantic
// encoder's vector. Pure: the semantic encoder is injected by whoever does the I/O (CLI, scoring service).
import { HashingEncoder, type Encoder, type HashingEncoderState } from '../encoder/index.ts';
import { InvalidInputError } from '../errors.ts';
import type { SemanticSpec } from './types.ts';

/** Input size of the heads: lexical dim (unless the semantic weight is 1, which drops it) plus the semantic dim. */
export function featureDim(a: { encoder: { dim: number }; semantic?: SemanticSpec | undefined }): number {
  if (!a.semantic) return a.encoder.dim;
  return (a.semantic.weight < 1 ? a.encoder.dim : 0) + a.semantic.dim;
}

/**
 * concat(lexical · √(1−w), semantic · √w): both parts are L2-normalised, so the fused vector is too and `w` is the
 * semantic part's share of every dot product (cosine kNN, the heads' first layer). At w = 1 the lexical part is
 * left out altogether (the heads take the semantic vector alone).
 */
export class FusedEncoder implements Encoder {
  readonly id: string;
  readonly dim: number;
  readonly weight: number;
  private readonly lexical: Encoder;
  private readonly semantic: Encoder;
  private readonly lexScale: number;
  private readonly semScale: number;

  constructor(lexical: Encoder, semantic: Encoder, weight: number) {
    this.lexical = lexical;
    this.semantic = semantic;
    this.weight = weight;
    if (!(weight > 0 && weight <= 1)) throw new InvalidInputError(`semantic weight must be in (0, 1], got ${weight}`, 'semantic.weight');
    this.lexScale = weight < 1 ? Math.sqrt(1 - weight) : 0;
    this.semScale = Math.sqrt(weight);
    this.dim = (weight < 1 ? lexical.dim : 0) + semantic.dim;
    this.id = weight < 1 ? `fused(${lexical.id}|${semantic.id}@${weight})` : semantic.id;
  }

  encode(text: string): Float32Array {
    const out = new Float32Array(this.dim);
    let at = 0;
    if (this.lexScale > 0) {
      const x = this.lexical.encode(text);
      for (let i = 0; i < x.length; i++) out[i] = x[i]! * this.lexScale;
      at = x.length;
    }
    const s = this.semantic.encode(text);
    if (s.length !== this.semantic.dim) throw new InvalidInputError(`semantic encoder ${this.semantic.id} returned ${s.length} values, not ${this.semantic.dim}`, 'semantic');
    for (let i = 0; i < s.length; i++) out[at + i] = s[i]! * this.semScale;
    return out;
  }
}

/**
 * The encoder whose vectors an artifact's heads were trained on: its hashing encoder alone, or fused with the given
 * semantic encoder. Refuses a semantic artifact without an encoder, or with one whose id or size differ from the
 * one it was trained with (its vectors would mean nothing to the heads).
 */
export function routerEncoder(a: { encoder: HashingEncoderState; semantic?: SemanticSpec | undefined }, semantic?: Encoder): Encoder {
  const lexical = new HashingEncoder(a.encoder);
  if (!a.semantic) return lexical;
  const want = a.semantic;
  if (!semantic) {
    throw new InvalidInputError(
      `the artifact was trained with the semantic encoder ${want.id} (weight ${want.weight}); pass it to createLlmRouter ({ semantic }), e.g. loadStaticEncoder() from @moma/semantic`,
      'semantic',
    );
  }
  if (semantic.id !== want.id) {
    throw new InvalidInputError(`the artifact was trained with the semantic encoder ${want.id}, but ${semantic.id} was given; their vectors are not interchangeable`, 'semantic');
  }
  if (semantic.dim !== want.dim) throw new InvalidInputError(`semantic encoder ${semantic.id} has dim ${semantic.dim}; the artifact expects ${want.dim}`, 'semantic');
  return new FusedEncoder(lexical, semantic, want.weight);
}
