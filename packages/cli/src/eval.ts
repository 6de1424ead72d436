import { parseArgs } from 'node:util';
import { holdOutTasks, loadDataset } from './data/load.ts';
import type { Prices } from './data/format.ts';
import { readPrices } from './data/prices.ts';
import { readArtifactDir } from './llm/artifact-files.ts';
import { evaluate, evaluateArtifact, type EvalResult } from './llm/evaluate.ts';
import { markdownReport } from './llm/report.ts';
import { progressBar } from './progress.ts';
import { initTf } from './tf.ts';

const USAGE = `moma eval --data PATH [--data PATH ...] [--artifact DIR [--rows all|test] [--knn-train PATH]] [--prices FILE]
          [--json] [--dim N] [--seed N] [--k N] [--quiet]
  Without --artifact: trains the router on the data's train split and scores its test split. With --artifact: scores
  that trained artifact on the data (all rows by default: a held-out file) without retraining, on the models both
  know. Reported per task and for all tasks: AIQ, max quality, cost at the best single model's quality, the modes
  (and APGR/CPT for two models), beside the baselines: zero router, kNN (with --knn-train when evaluating an
  artifact), MLP (when training), random (measured over 200 seeds), oracle, best single.
  Data: routing-data files or folders, or RouterBench / RouteLLM / LLMRouter files (see moma data --help).
  --split tasks: train on some tasks and test on the others (whole tasks held out), instead of the data's split.
  --json prints one JSON object on stdout.`;

/** Keeps the JSON small: curves are for the docs' plots, not the one-line summary. */
function compact(r: EvalResult): unknown {
  return JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'points' ? undefined : typeof v === 'number' ? Number(v.toPrecision(6)) : v)));
}

export async function runEvalOn(
  data: string | string[],
  opts: { dim: number; seed: number; k: number; quiet: boolean; prices?: Prices; byTask?: boolean },
): Promise<EvalResult> {
  await initTf('wasm');
  const loaded = loadDataset(data, opts.prices ? { prices: opts.prices } : {});
  const ds = opts.byTask ? holdOutTasks(loaded) : loaded;
  const bar = progressBar(`eval ${ds.name}`, opts.quiet);
  const { result } = evaluate(ds, { dim: opts.dim, seed: opts.seed, knnK: opts.k, onProgress: bar.update });
  bar.stop();
  return result;
}

export async function runEval(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string', multiple: true },
      artifact: { type: 'string' },
      rows: { type: 'string', default: 'all' },
      split: { type: 'string', default: 'data' },
      'knn-train': { type: 'string', multiple: true },
      prices: { type: 'string' },
      json: { type: 'boolean', default: false },
      dim: { type: 'string', default: '4096' },
      seed: { type: 'string', default: '7' },
      k: { type: 'string', default: '40' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.data?.length || (values.rows !== 'all' && values.rows !== 'test') || (values.split !== 'data' && values.split !== 'tasks')) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const prices = readPrices(values.prices);
  const opts = { dim: Number(values.dim), seed: Number(values.seed), k: Number(values.k), quiet: values.quiet, ...(prices ? { prices } : {}) };
  let result: EvalResult;
  if (values.artifact) {
    const artifact = readArtifactDir(values.artifact);
    const data = loadDataset(values.data, prices ? { prices } : {});
    const knnTrain = values['knn-train']?.length ? loadDataset(values['knn-train'], prices ? { prices } : {}) : undefined;
    result = evaluateArtifact(artifact, data, { seed: opts.seed, knnK: opts.k, rows: values.rows as 'all' | 'test', ...(knnTrain ? { knnTrain } : {}) });
  } else {
    result = await runEvalOn(values.data, { ...opts, byTask: values.split === 'tasks' });
  }
  if (values.json) process.stdout.write(`${JSON.stringify(compact(result))}\n`);
  else process.stdout.write(markdownReport(result));
  return 0;
}
