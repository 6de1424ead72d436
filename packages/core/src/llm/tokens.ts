// gpt-tokenizer's cl100k_base: the same counts as tiktoken, about half the resident memory of js-tiktoken (which keeps a
// 100k-entry decode table a counter never uses) — scoring must idle under 150 MB.
import { createRequire } from 'node:module';
import type { countTokens as Cl100kCount } from 'gpt-tokenizer/encoding/cl100k_base';

/** Exact BPE up to this many characters; beyond it, extrapolate from a head and a tail sample. */
const EXACT_CHARS = 1024;
const SAMPLE_CHARS = 384;
const CACHE_MAX = 4096;

const cache = new Map<string, number>();
// User text is counted as text: "<|endoftext|>" in a prompt is not a control token and must not make routing fail.
const PLAIN = { disallowedSpecial: new Set<string>() };

let cl100kCount: typeof Cl100kCount | undefined;

function bpeCount(text: string): number {
  // Loaded on first use, not when @moma/core is imported: its tables take ~25 MB resident, which only what counts
  // tokens (scoring, the CLI) should pay; intent and the orchestrator never count.
  cl100kCount ??= (createRequire(import.meta.url)('gpt-tokenizer/encoding/cl100k_base') as { countTokens: typeof Cl100kCount }).countTokens;
  return cl100kCount(text, PLAIN);
}

/** Builds the tokenizer's tables now, so the first routed request does not pay for it. */
export function warmTokenizer(): void {
  bpeCount('warm up');
}

/**
 * Prompt tokens (cl100k_base). Long texts are estimated from two samples (chars per token is stable within a
 * text), which keeps a decision well under a millisecond; cached because retries and fallbacks re-count.
 */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  let n: number;
  if (text.length <= EXACT_CHARS) {
    n = bpeCount(text);
  } else {
    const head = text.slice(0, SAMPLE_CHARS);
    const tail = text.slice(text.length - SAMPLE_CHARS);
    const perChar = (bpeCount(head) + bpeCount(tail)) / (2 * SAMPLE_CHARS);
    n = Math.max(1, Math.round(perChar * text.length));
  }
  cache.set(text, n);
  if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as string);
  return n;
}
