/** A text encoder: maps text to an L2-normalised dense vector of fixed dimension. */
export interface Encoder {
  /** Stable id, stored in artifacts so a router is never used with another encoder's vectors. */
  readonly id: string;
  readonly dim: number;
  encode(text: string): Float32Array;
}

/** Encoders that need I/O (an embeddings service) are async; the local ones also satisfy this. */
export interface AsyncEncoder {
  readonly id: string;
  readonly dim: number;
  encodeBatch(texts: readonly string[]): Promise<Float32Array[]>;
}
