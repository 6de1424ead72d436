import type { UseModel } from './use-model.ts';

export interface SemanticCacheOptions {
  /** Texts kept (LRU); 4096 × 512 floats is 8 MB. */
  capacity?: number;
  /**
   * Largest batch sent to the model at once (default 16). The wasm heap grows to the largest batch's activations and
   * never shrinks: 512 texts in batches of 64 took 16.1 ms per text and left 262 MB resident, in batches of 16
   * 12.2 ms and 227 MB (32: 12.8 ms, 229 MB; 8: 13.5 ms, 242 MB), on this machine's kind.
   */
  maxBatch?: number;
  /**
   * At most this many characters per model call (default 1,500; a longer text goes alone). The activations grow with
   * the tokens of a call, not its texts: 1,600 texts of up to 40 words left the model's memory (external) at 198 MB in
   * batches of 16, 153 MB in batches of 8 and 91 MB one by one, no faster per text in the large batches. Sixteen
   * short queries (CLINC150's average is 45 characters) still share one call.
   */
  maxBatchChars?: number;
}

/**
 * The full encoder as a service: each text embedded once (LRU by text), and the texts of concurrent requests
 * gathered into one model call (the model costs ~17 ms for one text and ~11 ms per text in a batch).
 */
export class SemanticCache {
  readonly id: string;
  readonly dim: number;
  private readonly model: UseModel;
  private readonly capacity: number;
  private readonly maxBatch: number;
  private readonly maxBatchChars: number;
  private readonly cache = new Map<string, Float32Array>();
  private readonly waiting = new Map<string, Array<{ resolve: (v: Float32Array) => void; reject: (e: unknown) => void }>>();
  private scheduled = false;
  private running: Promise<void> = Promise.resolve();
  /** Texts embedded by the model and texts answered from the cache, since start. */
  readonly stats = { embedded: 0, hits: 0, batches: 0 };

  constructor(model: UseModel, options: SemanticCacheOptions = {}) {
    this.model = model;
    this.id = model.id;
    this.dim = model.dim;
    this.capacity = options.capacity ?? 4096;
    this.maxBatch = options.maxBatch ?? 16;
    this.maxBatchChars = options.maxBatchChars ?? 1500;
  }

  /** How many texts from `texts[from]` on make one model call (at least one). */
  private batchEnd(texts: readonly string[], from: number): number {
    let end = from + 1;
    let chars = texts[from]!.length;
    while (end < texts.length && end - from < this.maxBatch && chars + texts[end]!.length <= this.maxBatchChars) chars += texts[end++]!.length;
    return end;
  }

  /** The vectors of `texts`, in order. */
  embed(texts: readonly string[]): Promise<Float32Array[]> {
    return Promise.all(texts.map((t) => this.one(t)));
  }

  /**
   * Many texts (an index's card texts), in batches, without filling the query cache. Batches interleave with the
   * queries' model calls, so requests keep being answered while a large index is embedded.
   */
  async embedAll(texts: readonly string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; ) {
      const end = this.batchEnd(texts, i);
      out.push(...(await this.model.embed(texts.slice(i, end))));
      this.stats.embedded += end - i;
      this.stats.batches++;
      i = end;
    }
    return out;
  }

  private one(text: string): Promise<Float32Array> {
    const hit = this.cache.get(text);
    if (hit) {
      this.stats.hits++;
      this.cache.delete(text);
      this.cache.set(text, hit);
      return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const w = this.waiting.get(text);
      if (w) w.push({ resolve, reject });
      else this.waiting.set(text, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        // after the current macrotask, so the texts of requests arriving together share one model call
        setImmediate(() => {
          this.scheduled = false;
          this.running = this.running.then(() => this.flush());
        });
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.size > 0) {
      const pending = [...this.waiting.keys()];
      const batch = pending.slice(0, this.batchEnd(pending, 0));
      const waiters = batch.map((t) => this.waiting.get(t)!);
      for (const t of batch) this.waiting.delete(t);
      try {
        const vecs = await this.model.embed(batch);
        this.stats.embedded += batch.length;
        this.stats.batches++;
        batch.forEach((t, i) => {
          this.remember(t, vecs[i]!);
          for (const w of waiters[i]!) w.resolve(vecs[i]!);
        });
      } catch (err) {
        for (const ws of waiters) for (const w of ws) w.reject(err);
      }
    }
  }

  private remember(text: string, v: Float32Array): void {
    this.cache.set(text, v);
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value as string);
  }
}
