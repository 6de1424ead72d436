import { parseArgs } from 'node:util';
import { loadDataset } from './data/load.ts';
import { evaluate, type EvalResult } from './llm/evaluate.ts';
import { markdownReport } from './llm/report.ts';
import { progressBar } from './progress.ts';
import { initTf } from './tf.ts';

const USAGE = `moma eval --data PATH [--json] [--dim N] [--seed N] [--k N] [--quiet]
  Trains the router on the dataset's train split and reports AIQ, max quality, cost at the best single model's
  quality (and APGR/CPT for two-model sets) beside the baselines: zero router, kNN, MLP, random, oracle, best single.
  Formats: RouterBench subset, RouteLLM MMLU, LLMRouter (detected). --json prints one JSON object on stdout.`;

/** Keeps the JSON small: curves are for the docs' plots, not the one-line summary. */
function compact(r: EvalResult): unknown {
  return JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'points' ? undefined : typeof v === 'number' ? Number(v.toPrecision(6)) : v)));
}

export async function runEvalOn(data: string, opts: { dim: number; seed: number; k: number; quiet: boolean }): Promise<EvalResult> {
  await initTf('wasm');
  const ds = loadDataset(data);
  const bar = progressBar(`eval ${ds.name}`, opts.quiet);
  const { result } = evaluate(ds, { dim: opts.dim, seed: opts.seed, knnK: opts.k, onProgress: bar.update });
  bar.stop();
  return result;
}

export async function runEval(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      json: { type: 'boolean', default: false },
      dim: { type: 'string', default: '4096' },
      seed: { type: 'string', default: '7' },
      k: { type: 'string', default: '40' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.data) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const result = await runEvalOn(values.data, { dim: Number(values.dim), seed: Number(values.seed), k: Number(values.k), quiet: values.quiet });
  if (values.json) process.stdout.write(`${JSON.stringify(compact(result))}\n`);
  else process.stdout.write(markdownReport(result));
  return 0;
}
