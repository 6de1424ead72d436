import { InvalidInputError } from '../errors.ts';
import type { Encoder } from '../encoder/index.ts';
import { choose, type Candidate, validateOptions } from './choose.ts';
import { promptText, routingText } from './extract.ts';
import { routerEncoder } from './features.ts';
import { predictEnsemble } from './heads/infer.ts';
import { countTokens } from './tokens.ts';
import type { ArtifactModel, ChoiceOptions, LlmChoice, LlmRouter, RouteInput, RouterArtifact } from './types.ts';

const PREDICTION_CACHE = 4096;

/** USD for one call: prompt tokens at the input price plus the model's typical answer length at the output price. */
export function predictCostUsd(model: ArtifactModel, promptTokens: number): number {
  return (promptTokens * model.inputPricePerMTok + model.outputTokens * model.outputPricePerMTok) / 1e6;
}

function validateInput(input: RouteInput): void {
  if (!input || typeof input.text !== 'string' || input.text.trim().length === 0) {
    throw new InvalidInputError('query text is empty: send the user message to route', 'text');
  }
  if (input.context !== undefined && !Array.isArray(input.context)) throw new InvalidInputError('context must be an array of turns', 'context');
}

/**
 * The models a router ranks: the trained ones, then the onboarded (derived) ones, less the removed ones; `pool`
 * holds each one's index in trained-then-derived order.
 */
export function poolModels(artifact: RouterArtifact): { models: ArtifactModel[]; pool: number[] } {
  const all: ArtifactModel[] = [...artifact.models, ...(artifact.derived ?? [])];
  const removed = new Set(artifact.removed ?? []);
  const pool = all.map((_, i) => i).filter((i) => !removed.has(all[i]!.id));
  return { models: pool.map((i) => all[i]!), pool };
}

/** Predicted qualities of the pool from the trained models' `base` predictions (derived ones: w·base + b, in [0, 1]). */
export function predictPool(artifact: RouterArtifact, base: Float32Array, pool: readonly number[]): Float32Array {
  const M = artifact.models.length;
  const derived = artifact.derived ?? [];
  const out = new Float32Array(pool.length);
  pool.forEach((i, j) => {
    if (i < M) out[j] = base[i]!;
    else {
      const d = derived[i - M]!;
      let v = d.bias;
      for (let k = 0; k < M; k++) v += d.weights[k]! * base[k]!;
      out[j] = Math.min(1, Math.max(0, v));
    }
  });
  return out;
}

export interface LlmRouterOptions {
  /** The semantic encoder an artifact with a `semantic` section was trained with (same id); ignored otherwise. */
  semantic?: Encoder;
}

/**
 * A router over one artifact: encode the question, score every model, choose on the cost-quality front. An artifact
 * with a `semantic` section needs its encoder in `options.semantic` (InvalidInputError if absent or another one).
 */
export function createLlmRouter(artifact: RouterArtifact, options: LlmRouterOptions = {}): LlmRouter {
  const encoder = routerEncoder(artifact, options.semantic);
  // Cache predicted qualities (M floats) rather than embeddings (dim floats): retries and fallbacks of the same
  // question skip encode + score, and the cache stays small enough not to burden the GC.
  const cache = new Map<string, Float32Array>();
  const predict = (text: string): Float32Array => {
    const hit = cache.get(text);
    if (hit) {
      cache.delete(text);
      cache.set(text, hit);
      return hit;
    }
    const q = predictPool(artifact, predictEnsemble(artifact.heads, encoder.encode(text), artifact.models.length), pool);
    cache.set(text, q);
    if (cache.size > PREDICTION_CACHE) cache.delete(cache.keys().next().value as string);
    return q;
  };
  const { models, pool } = poolModels(artifact);
  const ids = models.map((m) => m.id);
  const prices = models.map(({ id, inputPricePerMTok, outputPricePerMTok }) => ({ id, inputPricePerMTok, outputPricePerMTok }));
  return {
    version: artifact.version,
    models: prices,
    route(input: RouteInput, options: ChoiceOptions): LlmChoice {
      validateInput(input);
      validateOptions(options, ids);
      const q = predict(routingText(input));
      const tokens = countTokens(promptText(input));
      const cands: Candidate[] = models.map((m, i) => ({ model: m.id, quality: q[i]!, costUsd: predictCostUsd(m, tokens) }));
      const wtp = options.willingnessToPay ?? artifact.modes[options.mode];
      const { ranked, reason } = choose(cands, options, wtp);
      return { ranked, mode: options.mode, reason, routerVersion: artifact.version };
    },
  };
}
