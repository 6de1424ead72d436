import { countTokens } from '@moma/core';
import type { DatasetModel, RoutingDataset, RoutingRow } from './types.ts';

interface Raw {
  sample_id: string;
  split: string;
  eval_name: string;
  prompt: string;
  correct: Record<string, number | null>;
  cost_usd: Record<string, number>;
  response_chars?: Record<string, number>;
}

/** English text averages ~4 characters per token; the responses themselves are not in the normalised file. */
const CHARS_PER_TOKEN = 4;

/**
 * RouterBench records a USD cost per call, not prices. Recover each model's input and output price per 1M tokens by
 * least squares on cost ≈ a·promptTokens + b·responseTokens (a, b ≥ 0), so the router predicts cost from prices
 * like it does in production, while evaluation charges the recorded cost.
 */
function fitPrices(tokens: number[], outs: number[], costs: number[]): { a: number; b: number } {
  let sxx = 0, sxy = 0, syy = 0, sxc = 0, syc = 0;
  for (let i = 0; i < costs.length; i++) {
    const x = tokens[i]!, y = outs[i]!, c = costs[i]!;
    sxx += x * x; sxy += x * y; syy += y * y; sxc += x * c; syc += y * c;
  }
  const det = sxx * syy - sxy * sxy;
  let a = det !== 0 ? (sxc * syy - syc * sxy) / det : 0;
  let b = det !== 0 ? (syc * sxx - sxc * sxy) / det : 0;
  if (a < 0 || b < 0) {
    // Fall back to one shared price for both directions.
    const s = (sxc + syc) / Math.max(sxx + 2 * sxy + syy, 1e-12);
    a = Math.max(s, 0);
    b = a;
  }
  return { a, b };
}

export function loadRouterBench(raw: unknown[]): RoutingDataset {
  const rows0 = raw as Raw[];
  const ids = Object.keys(rows0[0]!.correct);
  const promptTokens = rows0.map((r) => countTokens(r.prompt));
  const models: DatasetModel[] = ids.map((m) => {
    const toks: number[] = [];
    const outs: number[] = [];
    const costs: number[] = [];
    rows0.forEach((r, i) => {
      const c = r.cost_usd[m];
      if (r.split !== 'train' || typeof c !== 'number') return;
      toks.push(promptTokens[i]!);
      outs.push((r.response_chars?.[m] ?? 0) / CHARS_PER_TOKEN);
      costs.push(c);
    });
    const { a, b } = fitPrices(toks, outs, costs);
    const outputTokens = outs.length > 0 ? outs.reduce((x, y) => x + y, 0) / outs.length : 0;
    return { id: m, inputPricePerMTok: a * 1e6, outputPricePerMTok: b * 1e6, outputTokens };
  });
  const rows: RoutingRow[] = rows0.map((r) => ({
    id: `${r.split}:${r.sample_id}`,
    split: r.split === 'test' ? 'test' : 'train',
    task: r.eval_name,
    prompt: r.prompt,
    scores: Float32Array.from(ids, (m) => (typeof r.correct[m] === 'number' ? r.correct[m]! : Number.NaN)),
    costUsd: Float32Array.from(ids, (m) => r.cost_usd[m] ?? Number.NaN),
  }));
  return {
    name: 'routerbench-subset',
    format: 'routerbench',
    models,
    rows,
    evals: [...new Set(rows.map((r) => r.task))].sort(),
    evalOf: (r) => r.task,
    notes: ['prices fitted per model from the recorded per-call cost; evaluation charges the recorded cost'],
  };
}
