import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';

/** Exact BPE up to this many characters; beyond it, extrapolate from a head and a tail sample. */
const EXACT_CHARS = 1024;
const SAMPLE_CHARS = 384;
const CACHE_MAX = 4096;

let tokenizer: Tiktoken | undefined;
const cache = new Map<string, number>();

function bpe(): Tiktoken {
  // Loading the ranks takes ~0.4 s, so do it once, on first use.
  tokenizer ??= new Tiktoken(cl100k);
  return tokenizer;
}

/** Loads the tokenizer now, so the first routed request does not pay for it. */
export function warmTokenizer(): void {
  bpe().encode('warm up');
}

/**
 * Prompt tokens (cl100k_base). Long texts are estimated from two samples (chars per token is stable within a
 * text), which keeps a decision well under a millisecond; cached because retries and fallbacks re-count.
 */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const enc = bpe();
  let n: number;
  if (text.length <= EXACT_CHARS) {
    n = enc.encode(text).length;
  } else {
    const head = text.slice(0, SAMPLE_CHARS);
    const tail = text.slice(text.length - SAMPLE_CHARS);
    const perChar = (enc.encode(head).length + enc.encode(tail).length) / (2 * SAMPLE_CHARS);
    n = Math.max(1, Math.round(perChar * text.length));
  }
  cache.set(text, n);
  if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as string);
  return n;
}
