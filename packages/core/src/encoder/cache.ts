import type { Encoder } from './types.ts';

/** LRU cache in front of an encoder: repeated and retried queries skip encoding. */
export class CachedEncoder implements Encoder {
  readonly id: string;
  readonly dim: number;
  private readonly inner: Encoder;
  private readonly max: number;
  private readonly cache = new Map<string, Float32Array>();

  constructor(inner: Encoder, maxEntries = 10_000) {
    this.inner = inner;
    this.id = inner.id;
    this.dim = inner.dim;
    this.max = maxEntries;
  }

  encode(text: string): Float32Array {
    const hit = this.cache.get(text);
    if (hit) {
      this.cache.delete(text);
      this.cache.set(text, hit);
      return hit;
    }
    const v = this.inner.encode(text);
    this.cache.set(text, v);
    if (this.cache.size > this.max) this.cache.delete(this.cache.keys().next().value as string);
    return v;
  }
}
