// Token estimates (for providers and agents that report no usage) and cost from per-model prices.
import type { ModelPrice } from './providers.ts';

/** ≈4 characters per token: the usual rule of thumb for English with BPE tokenizers. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** Chat formatting adds a few tokens per message on top of its content. */
export function estimatePromptTokens(messages: ReadonlyArray<{ content: string }>): number {
  let n = 0;
  for (const m of messages) n += estimateTokens(m.content) + 4;
  return n;
}

export function costUsd(promptTokens: number, completionTokens: number, price: ModelPrice): number {
  return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
}
