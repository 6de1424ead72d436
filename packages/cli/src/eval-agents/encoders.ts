import { LookupEncoder, type ClassifyResult } from '@moma/core';
import { EvalInputError } from './errors.ts';
import { VectorCache, type EmbedBatch, type EnsureStats } from './vector-cache.ts';

/** `--encoder`: the lexical index alone, or with the Universal Sentence Encoder as a second expert. */
export const ENCODERS = ['lexical', 'use'] as const;
export type EncoderName = (typeof ENCODERS)[number];

/** Whether a semantic index answered without the full encoder (paths fast, fast-reject and static). */
export function withoutFullEncoder(c: Pick<ClassifyResult, 'path'>): boolean {
  return c.path === 'fast' || c.path === 'fast-reject' || c.path === 'static';
}

export function parseEncoder(s: string | undefined): EncoderName {
  if (s === undefined) return 'lexical';
  if (!(ENCODERS as readonly string[]).includes(s)) throw new EvalInputError(`--encoder must be one of ${ENCODERS.join(', ')} (got "${s}")`);
  return s as EncoderName;
}

/**
 * The semantic side of an evaluation: the full model (loaded only when a text is missing from the vector cache)
 * behind the persistent vector cache, and synchronous lookup encoders over what was embedded.
 */
export interface SemanticSource {
  readonly id: string;
  readonly dim: number;
  /** Embeds (or reads) every text; call before lookup(). */
  ensure(texts: Iterable<string>, what: string): Promise<EnsureStats>;
  /** A synchronous encoder over texts already ensured. */
  lookup(texts: Iterable<string>): LookupEncoder;
  /** Totals over the run. */
  readonly stats: { texts: number; hits: number; embedded: number; seconds: number; file: string | null };
  dispose(): void;
}

export interface SemanticSourceOptions {
  /** The vector cache folder; null keeps vectors in memory only (--no-cache). */
  cacheDir: string | null;
  log?: (m: string) => void;
  /** Tests: a stand-in model instead of the Universal Sentence Encoder. */
  model?: { id: string; dim: number; embed: EmbedBatch; dispose?: () => void };
}

export async function semanticSource(name: EncoderName, opts: SemanticSourceOptions): Promise<SemanticSource | null> {
  if (name === 'lexical') return null;
  const { USE_DIM, USE_ID } = await import('@moma/semantic');
  const id = opts.model?.id ?? USE_ID;
  const dim = opts.model?.dim ?? USE_DIM;
  const cache = VectorCache.open(opts.cacheDir, id, dim);
  let model: Promise<{ embed: EmbedBatch; dispose?: () => void }> | undefined = opts.model ? Promise.resolve(opts.model) : undefined;
  const embed: EmbedBatch = async (texts) => {
    model ??= (async () => {
      opts.log?.(`loading the sentence encoder ${id}`);
      const { loadUseModel } = await import('@moma/semantic');
      return loadUseModel();
    })();
    return (await model).embed(texts);
  };
  const stats = { texts: 0, hits: 0, embedded: 0, seconds: 0, file: cache.file };
  return {
    id,
    dim,
    async ensure(texts, what) {
      const s = await cache.ensure(texts, embed, { ...(opts.log ? { log: opts.log } : {}), what });
      stats.texts += s.texts;
      stats.hits += s.hits;
      stats.embedded += s.embedded;
      stats.seconds += s.seconds;
      return s;
    },
    lookup: (texts) => new LookupEncoder(id, dim, cache.table(texts)),
    stats,
    dispose() {
      if (model) void model.then((m) => m.dispose?.());
    },
  };
}
