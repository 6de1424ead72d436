// Importers: RouterBench (the shared subset's normalised rows), RouteLLM (MMLU responses merged per subject) and
// LLMRouter (dcrouter joined rows) into the routing-data format (format.ts). Every source row is checked as it is
// read: a field of the wrong type names the row and the field and fails the import (it never becomes "missing").
// Costs: RouterBench records USD per call; RouteLLM and LLMRouter do not, so cost = tokens × price, from the source's
// own published price table or `--prices`. A model without a price fails the import, naming the model.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { countTokens } from '@moma/core';
import { z } from 'zod';
import { issueText, type Prices, type RoutingDataRow } from './format.ts';
import { readJsonl } from './read-jsonl.ts';

export type SourceFormat = 'routerbench' | 'routellm' | 'llmrouter';

export interface Imported {
  format: SourceFormat;
  rows: RoutingDataRow[];
  notes: string[];
}

/** RouteLLM's benchmarks/README.md price table: GPT-4 Turbo $20/M (1:1), the weak model at Llama-2-70B's $0.90/M. */
export const ROUTELLM_PRICES: Prices = {
  'gpt-4-1106-preview': { input: 20, output: 20 },
  'mistralai/Mixtral-8x7B-Instruct-v0.1': { input: 0.9, output: 0.9 },
};
/** A multiple-choice answer ("B") and its end token. */
const MMLU_ANSWER_TOKENS = 2;

/** LLMRouter (ulab-uiuc, MIT) prices, USD per 1M tokens (input = output), from data/example_data/llm_candidates. */
export const LLMROUTER_PRICES: Prices = Object.fromEntries(
  Object.entries({
    'qwen2.5-7b-instruct': 0.2,
    'codegemma-7b': 0.2,
    'gemma-2-9b-it': 0.1,
    'llama-3.1-8b-instruct': 0.2,
    'llama3-chatqa-1.5-8b': 0.2,
    'mistral-7b-instruct-v0.3': 0.2,
    'llama-3.3-nemotron-super-49b-v1': 0.9,
    'llama-3.1-nemotron-51b-instruct': 0.9,
    'llama3-chatqa-1.5-70b': 0.9,
  }).map(([m, p]) => [m, { input: p, output: p }]),
);

/**
 * LLMRouter has no responses, so answer length is a per-metric guess (short labels for multiple choice, a program
 * for code, worked steps for maths); realized and predicted cost both use it, so it shifts no comparison.
 */
export const LLMROUTER_ANSWER_TOKENS: Record<string, number> = {
  em_mc: 8,
  f1_score: 24,
  code_eval: 160,
  MATH: 256,
  GSM8K: 192,
  commongen_coverage: 40,
};

/** English text averages ~4 characters per token; RouterBench's normalised rows keep response lengths in chars. */
const CHARS_PER_TOKEN = 4;

const split = z.string().transform((s, ctx) => {
  if (s === 'train' || s === 'test' || s === 'val') return s;
  if (s === 'dev' || s === 'validation') return 'val' as const;
  ctx.addIssue({ code: 'custom', message: `split must be train, val or test (got "${s}")` });
  return z.NEVER;
});

const routerBenchRow = z.object({
  sample_id: z.union([z.string(), z.number()]).transform(String),
  split,
  eval_name: z.string().min(1),
  prompt: z.string(),
  correct: z.record(z.string(), z.number().min(0).max(1).nullable()),
  cost_usd: z.record(z.string(), z.number().nonnegative().nullable()),
  response_chars: z.record(z.string(), z.number().nonnegative().nullable()).optional(),
});

const routeLlmRow = z.object({
  subject: z.string().min(1),
  prompt: z.string(),
  correct: z.record(z.string(), z.union([z.boolean(), z.number().min(0).max(1), z.null()])),
  split: split.optional(),
  id: z.string().optional(),
});

const llmRouterRow = z.object({
  split,
  task_name: z.string().min(1),
  metric: z.string(),
  query: z.string(),
  scores: z.record(z.string(), z.number().min(0).max(1).nullable()),
});

/** The format of a source file's rows, from the first row's fields. */
export function detectSource(first: unknown): SourceFormat | 'moma' | undefined {
  if (!first || typeof first !== 'object') return undefined;
  const f = first as Record<string, unknown>;
  if ('eval_name' in f && 'cost_usd' in f) return 'routerbench';
  if ('subject' in f && 'correct' in f) return 'routellm';
  if ('task_name' in f && 'scores' in f) return 'llmrouter';
  if ('task' in f && 'scores' in f && 'id' in f) return 'moma';
  return undefined;
}

function parseRows<S extends z.ZodType>(file: string, raw: unknown[], schema: S, what: string): Array<z.output<S>> {
  return raw.map((r, i) => {
    const res = schema.safeParse(r);
    if (res.success) return res.data;
    throw new Error(`${file}: row ${i + 1}: ${issueText(res.error)} (reading ${what} rows)`);
  });
}

/** Prices for every model, or an error naming the models without one. */
function priced(models: readonly string[], table: Prices, file: string, hint: string): Prices {
  const missing = models.filter((m) => !table[m]);
  if (missing.length > 0) {
    throw new Error(`${file}: no price for ${missing.map((m) => `"${m}"`).join(', ')}: give --prices FILE (JSON {"<model>": {"input": USD/1M, "output": USD/1M}})${hint}`);
  }
  return table;
}

const usd = (p: { input: number; output: number }, prompt: number, completion: number) => (prompt * p.input + completion * p.output) / 1e6;
const nonNull = <T>(rec: Record<string, T | null>): Record<string, T> =>
  Object.fromEntries(Object.entries(rec).filter((e): e is [string, T] => e[1] !== null));

export function importRouterBench(file: string, raw: unknown[]): Imported {
  const src = parseRows(file, raw, routerBenchRow, 'RouterBench');
  const seen = new Set<string>();
  let dups = 0;
  const rows: RoutingDataRow[] = [];
  for (const r of src) {
    const id = `${r.split}:${r.sample_id}`;
    if (seen.has(id)) {
      dups++;
      continue;
    }
    seen.add(id);
    const prompt = countTokens(r.prompt);
    const costs = nonNull(r.cost_usd);
    const chars = r.response_chars ? nonNull(r.response_chars) : {};
    rows.push({
      id,
      prompt: r.prompt,
      task: r.eval_name,
      source: 'routerbench',
      split: r.split,
      scores: r.correct,
      cost_usd: costs,
      tokens: Object.fromEntries(Object.keys(costs).map((m) => [m, { prompt, completion: Math.round((chars[m] ?? 0) / CHARS_PER_TOKEN) }])),
    });
  }
  return { format: 'routerbench', rows, notes: [`RouterBench: ${dups} duplicate sample ids dropped; cost as recorded per call`] };
}

export function importRouteLlm(file: string, raw: unknown[], prices?: Prices): Imported {
  const src = parseRows(file, raw, routeLlmRow, 'RouteLLM');
  const models = [...new Set(src.flatMap((r) => Object.keys(r.correct)))];
  const table = priced(models, { ...ROUTELLM_PRICES, ...prices }, file, '');
  const rows = src.map((r, i): RoutingDataRow => {
    const prompt = countTokens(r.prompt);
    const scored = Object.keys(nonNull(r.correct));
    return {
      id: r.id ?? `${r.subject}.${i}`,
      prompt: r.prompt,
      task: r.subject,
      source: 'routellm-mmlu',
      ...(r.split ? { split: r.split } : {}),
      scores: r.correct,
      tokens: Object.fromEntries(scored.map((m) => [m, { prompt, completion: MMLU_ANSWER_TOKENS }])),
      cost_usd: Object.fromEntries(scored.map((m) => [m, usd(table[m]!, prompt, MMLU_ANSWER_TOKENS)])),
    };
  });
  const own = src.some((r) => r.split);
  return {
    format: 'routellm',
    rows,
    notes: [
      own ? "RouteLLM: the file's own split" : 'RouteLLM: the file has no split (the loader splits by question text)',
      `RouteLLM: cost = tokens × price (GPT-4 Turbo $20/M, the weak model $0.90/M unless --prices)`,
    ],
  };
}

/** LLMRouter prices: raw/default_llm.json beside the file when present, then the published table, then --prices. */
function llmRouterPrices(file: string): Prices {
  const p = path.join(path.dirname(file), 'raw', 'default_llm.json');
  if (!existsSync(p)) return LLMROUTER_PRICES;
  const j = JSON.parse(readFileSync(p, 'utf8')) as Record<string, { input_price?: number; output_price?: number }>;
  const out: Prices = { ...LLMROUTER_PRICES };
  for (const [k, v] of Object.entries(j)) {
    if (typeof v.input_price === 'number') out[k] = { input: v.input_price, output: typeof v.output_price === 'number' ? v.output_price : v.input_price };
  }
  return out;
}

export function importLlmRouter(file: string, raw: unknown[], prices?: Prices): Imported {
  const src = parseRows(file, raw, llmRouterRow, 'LLMRouter');
  const models = [...new Set(src.flatMap((r) => Object.keys(r.scores)))];
  const table = priced(models, { ...llmRouterPrices(file), ...prices }, file, ' or raw/default_llm.json beside the file');
  const rows = src.map((r, i): RoutingDataRow => {
    const prompt = countTokens(r.query);
    const completion = LLMROUTER_ANSWER_TOKENS[r.metric] ?? 32;
    const scored = Object.keys(nonNull(r.scores));
    return {
      id: `${r.split}.${i}`,
      prompt: r.query,
      task: r.task_name,
      source: 'llmrouter',
      split: r.split,
      scores: r.scores,
      tokens: Object.fromEntries(scored.map((m) => [m, { prompt, completion }])),
      cost_usd: Object.fromEntries(scored.map((m) => [m, usd(table[m]!, prompt, completion)])),
    };
  });
  return { format: 'llmrouter', rows, notes: ['LLMRouter: cost = (prompt tokens + a per-metric answer-length guess) × price; the data has no responses'] };
}

/** Reads a source file (detected format) as routing-data rows. */
export function importFile(file: string, opts: { from?: SourceFormat; prices?: Prices } = {}): Imported {
  const raw = readJsonl(file);
  if (raw.length === 0) throw new Error(`${file}: no rows`);
  const detected = opts.from ?? detectSource(raw[0]);
  if (detected === 'routerbench') return importRouterBench(file, raw);
  if (detected === 'routellm') return importRouteLlm(file, raw, opts.prices);
  if (detected === 'llmrouter') return importLlmRouter(file, raw, opts.prices);
  if (detected === 'moma') throw new Error(`${file} is already in the routing-data format`);
  const fields = raw[0] && typeof raw[0] === 'object' ? Object.keys(raw[0]).join(', ') : typeof raw[0];
  throw new Error(`${file}: unknown format (expected RouterBench, RouteLLM or LLMRouter rows, or routing-data rows; got fields ${fields})`);
}
