import path from 'node:path';
import { extractQuestion } from '@moma/core';
import { loadLlmRouter } from './llmrouter.ts';
import { readJsonl } from './read-jsonl.ts';
import { loadRouteLlmMmlu } from './routellm.ts';
import { loadRouterBench } from './routerbench.ts';
import type { RoutingDataset } from './types.ts';

export type { RoutingDataset, RoutingRow, DatasetModel, DatasetFormat } from './types.ts';

/** Reads a routing dataset, detecting its format from the first row's fields. */
export function loadDataset(file: string): RoutingDataset {
  const raw = readJsonl(file);
  const first = raw[0] as Record<string, unknown> | undefined;
  if (!first) throw new Error(`${file}: no rows`);
  let ds: RoutingDataset;
  if ('eval_name' in first && 'cost_usd' in first) ds = loadRouterBench(raw);
  else if ('subject' in first && 'correct' in first) ds = loadRouteLlmMmlu(raw);
  else if ('task_name' in first && 'scores' in first) ds = loadLlmRouter(file, raw);
  else throw new Error(`${file}: unknown format (expected RouterBench, RouteLLM MMLU or LLMRouter rows; got fields ${Object.keys(first).join(', ')})`);
  return clean(ds, path.basename(file));
}

const norm = (s: string): string => extractQuestion(s).toLowerCase().replace(/\s+/g, ' ').trim();

/** Drops duplicate ids (first wins) and test queries whose question also occurs in train. */
function clean(ds: RoutingDataset, file: string): RoutingDataset {
  const seen = new Set<string>();
  const trainQ = new Set(ds.rows.filter((r) => r.split === 'train').map((r) => norm(r.prompt)));
  let dupIds = 0;
  let leaked = 0;
  const rows = ds.rows.filter((r) => {
    if (seen.has(r.id)) {
      dupIds++;
      return false;
    }
    seen.add(r.id);
    if (r.split === 'test' && trainQ.has(norm(r.prompt))) {
      leaked++;
      return false;
    }
    return true;
  });
  return { ...ds, rows, notes: [...ds.notes, `${file}: dropped ${dupIds} duplicate ids and ${leaked} test queries also in train`] };
}
