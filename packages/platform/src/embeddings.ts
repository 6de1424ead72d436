// OpenAI-compatible `/v1/embeddings` encoder, for deployments that run an embedding service. It has the shape of
// @moma/core's AsyncEncoder (id, dim, encodeBatch) without importing it: platform knows nothing of routing.
import { z } from 'zod';
import { Code, MomaError } from './errors.ts';

export interface EmbeddingsEncoderOptions {
  /** Base URL up to and including `/v1`, e.g. `http://embeddings:8080/v1`. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Expected vector size; learned from the first response when omitted. */
  dim?: number;
  /** Texts per request. */
  batchSize?: number;
  timeoutMs?: number;
  /** LRU entries; repeated and retried queries skip the network. */
  cacheSize?: number;
  fetch?: typeof fetch;
}

const responseSchema = z.object({
  data: z.array(z.object({ index: z.number().int().min(0), embedding: z.array(z.number()) })),
});

function normalise(v: readonly number[]): Float32Array {
  const out = Float32Array.from(v);
  let n = 0;
  for (const x of out) n += x * x;
  if (n > 0) {
    const inv = 1 / Math.sqrt(n);
    for (let i = 0; i < out.length; i++) out[i]! *= inv;
  }
  return out;
}

export class EmbeddingsEncoder {
  readonly id: string;
  private dimension: number | undefined;
  private readonly opts: Required<Pick<EmbeddingsEncoderOptions, 'batchSize' | 'timeoutMs' | 'cacheSize'>> & EmbeddingsEncoderOptions;
  private readonly cache = new Map<string, Float32Array>();
  private readonly fetchImpl: typeof fetch;

  constructor(options: EmbeddingsEncoderOptions) {
    if (!/^https?:\/\//.test(options.baseUrl)) {
      throw new MomaError(Code.INVALID_ARGUMENT, `embeddings baseUrl must be an http(s) URL ending in /v1 (got "${options.baseUrl}")`);
    }
    if (!options.model) throw new MomaError(Code.INVALID_ARGUMENT, 'embeddings model is missing: pass the model name the service serves');
    this.opts = { batchSize: 64, timeoutMs: 10_000, cacheSize: 10_000, ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
    this.dimension = options.dim;
    this.fetchImpl = options.fetch ?? fetch;
    this.id = `openai-embeddings:${options.model}${options.dim ? `:${options.dim}` : ''}`;
  }

  /** Vector size; 0 until known (given in options or learned from the first response). */
  get dim(): number {
    return this.dimension ?? 0;
  }

  async encodeBatch(texts: readonly string[]): Promise<Float32Array[]> {
    const out: Array<Float32Array | undefined> = texts.map((t) => this.cacheGet(t));
    const missing = [...new Set(texts.filter((_, i) => out[i] === undefined))];
    for (let s = 0; s < missing.length; s += this.opts.batchSize) {
      const batch = missing.slice(s, s + this.opts.batchSize);
      const vecs = await this.request(batch);
      batch.forEach((t, i) => this.cachePut(t, vecs[i]!));
    }
    return texts.map((t, i) => out[i] ?? this.cache.get(t)!);
  }

  private async request(input: string[]): Promise<Float32Array[]> {
    const url = `${this.opts.baseUrl}/embeddings`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}) },
        body: JSON.stringify({ model: this.opts.model, input }),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      const timeout = (err as Error).name === 'TimeoutError';
      throw new MomaError(timeout ? Code.DEADLINE_EXCEEDED : Code.UNAVAILABLE, `embeddings request to ${url} failed: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) {
      const code = res.status === 408 || res.status === 429 || res.status >= 500 ? Code.UNAVAILABLE : res.status === 401 || res.status === 403 ? Code.UNAUTHENTICATED : Code.INVALID_ARGUMENT;
      throw new MomaError(code, `embeddings service ${url} answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    }
    const parsed = responseSchema.safeParse(await res.json());
    if (!parsed.success || parsed.data.data.length !== input.length) {
      throw new MomaError(Code.INTERNAL, `embeddings service ${url} returned an unexpected body (want data[${input.length}].embedding)`);
    }
    const vecs: Float32Array[] = new Array(input.length);
    for (const d of parsed.data.data) {
      if (d.index >= input.length) throw new MomaError(Code.INTERNAL, `embeddings service returned index ${d.index} for ${input.length} inputs`);
      this.dimension ??= d.embedding.length;
      if (d.embedding.length !== this.dimension) {
        throw new MomaError(Code.FAILED_PRECONDITION, `embeddings of size ${d.embedding.length} from ${this.opts.model}, expected ${this.dimension}`);
      }
      vecs[d.index] = normalise(d.embedding);
    }
    return vecs;
  }

  private cacheGet(text: string): Float32Array | undefined {
    const hit = this.cache.get(text);
    if (hit) {
      this.cache.delete(text);
      this.cache.set(text, hit);
    }
    return hit;
  }

  private cachePut(text: string, v: Float32Array): void {
    this.cache.set(text, v);
    if (this.cache.size > this.opts.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }
}
