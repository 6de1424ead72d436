import { countTokens } from '@moma/core';
import { rng } from '@moma/core/train';
import type { RoutingDataset, RoutingRow } from './types.ts';

/** RouteLLM's benchmarks/README.md price table: GPT-4 Turbo $20/M (1:1), the weak model at Llama-2-70B's $0.90/M. */
const PRICES: Record<string, number> = { 'gpt-4-1106-preview': 20, 'mistralai/Mixtral-8x7B-Instruct-v0.1': 0.9 };
const STRONG = 'gpt-4-1106-preview';
const ANSWER_TOKENS = 2;
export const MMLU_TEST_FRACTION = 0.3;
export const MMLU_SPLIT_SEED = 20240601;

interface Raw {
  subject: string;
  prompt: string;
  correct: Record<string, boolean>;
}

/** FNV-1a of the question text: the split depends on the question only, never on file order. */
function hashText(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function loadRouteLlmMmlu(raw: unknown[]): RoutingDataset {
  const rows0 = raw as Raw[];
  const ids = Object.keys(rows0[0]!.correct);
  const strong = ids.indexOf(STRONG);
  const weak = strong === 0 ? 1 : 0;
  const rows: RoutingRow[] = rows0.map((r, i) => {
    const tokens = countTokens(r.prompt);
    // Fixed, seeded split by question: a question and its duplicates always land on the same side.
    const u = rng(MMLU_SPLIT_SEED ^ hashText(r.prompt))();
    return {
      id: `mmlu.${i}`,
      split: u < MMLU_TEST_FRACTION ? 'test' : 'train',
      task: r.subject,
      prompt: r.prompt,
      scores: Float32Array.from(ids, (m) => (typeof r.correct[m] === 'boolean' ? Number(r.correct[m]) : Number.NaN)),
      costUsd: Float32Array.from(ids, (m) => ((tokens + ANSWER_TOKENS) * (PRICES[m] ?? 1)) / 1e6),
    };
  });
  return {
    name: 'routellm-mmlu',
    format: 'routellm-mmlu',
    models: ids.map((id) => ({ id, inputPricePerMTok: PRICES[id] ?? 1, outputPricePerMTok: PRICES[id] ?? 1, outputTokens: ANSWER_TOKENS })),
    rows,
    evals: ['mmlu'],
    evalOf: () => 'mmlu',
    strongWeak: [strong, weak],
    notes: [`seeded split by question text: ${MMLU_TEST_FRACTION * 100}% test, seed ${MMLU_SPLIT_SEED}`, 'cost axis of APGR/CPT = share of calls to GPT-4'],
  };
}
