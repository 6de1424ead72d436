import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { countTokens } from '@moma/core';
import type { DatasetModel, RoutingDataset, RoutingRow } from './types.ts';

/** LLMRouter (ulab-uiuc, MIT) prices, USD per 1M tokens (input = output), from data/example_data/llm_candidates. */
export const LLMROUTER_PRICES: Record<string, number> = {
  'qwen2.5-7b-instruct': 0.2,
  'codegemma-7b': 0.2,
  'gemma-2-9b-it': 0.1,
  'llama-3.1-8b-instruct': 0.2,
  'llama3-chatqa-1.5-8b': 0.2,
  'mistral-7b-instruct-v0.3': 0.2,
  'llama-3.3-nemotron-super-49b-v1': 0.9,
  'llama-3.1-nemotron-51b-instruct': 0.9,
  'llama3-chatqa-1.5-70b': 0.9,
};

/**
 * The data has no responses, so answer length is a per-metric guess (short labels for multiple choice, a program
 * for code, worked steps for maths); realized and predicted cost both use it, so it shifts no comparison.
 */
export const ANSWER_TOKENS: Record<string, number> = {
  em_mc: 8,
  f1_score: 24,
  code_eval: 160,
  MATH: 256,
  GSM8K: 192,
  commongen_coverage: 40,
};

interface Raw {
  split: string;
  task_name: string;
  metric: string;
  query: string;
  scores: Record<string, number>;
}

function prices(file: string): Record<string, number> {
  const p = path.join(path.dirname(file), 'raw', 'default_llm.json');
  if (!existsSync(p)) return LLMROUTER_PRICES;
  const j = JSON.parse(readFileSync(p, 'utf8')) as Record<string, { input_price?: number }>;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(j)) if (typeof v.input_price === 'number') out[k] = v.input_price;
  return out;
}

export function loadLlmRouter(file: string, raw: unknown[]): RoutingDataset {
  const rows0 = raw as Raw[];
  const ids = Object.keys(rows0[0]!.scores);
  const table = prices(file);
  const priceOf = (m: string): number => table[m] ?? LLMROUTER_PRICES[m] ?? 0.2;
  let outSum = 0;
  let outN = 0;
  const rows: RoutingRow[] = rows0.map((r, i) => {
    const out = ANSWER_TOKENS[r.metric] ?? 32;
    const tokens = countTokens(r.query);
    if (r.split === 'train') {
      outSum += out;
      outN++;
    }
    return {
      id: `${r.split}.${i}`,
      split: r.split === 'test' ? 'test' : 'train',
      task: r.task_name,
      prompt: r.query,
      scores: Float32Array.from(ids, (m) => (typeof r.scores[m] === 'number' ? r.scores[m]! : Number.NaN)),
      costUsd: Float32Array.from(ids, (m) => ((tokens + out) * priceOf(m)) / 1e6),
    };
  });
  const outputTokens = outN > 0 ? outSum / outN : 32;
  const models: DatasetModel[] = ids.map((id) => ({ id, inputPricePerMTok: priceOf(id), outputPricePerMTok: priceOf(id), outputTokens }));
  return {
    name: 'llmrouter-dcrouter',
    format: 'llmrouter',
    models,
    rows,
    evals: ['llmrouter'],
    evalOf: () => 'llmrouter',
    notes: ['cost = (prompt tokens + per-metric answer-token guess) × price; the data has no responses'],
  };
}
