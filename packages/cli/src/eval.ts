import { parseArgs } from 'node:util';
import type { RouterArtifact } from '@moma/core';
import { holdOutTasks, loadDataset, parseModelAliases, parseModelList, renameModels, selectModels, type RoutingDataset } from './data/load.ts';
import type { Prices } from './data/format.ts';
import { readPrices } from './data/prices.ts';
import { readArtifactDir } from './llm/artifact-files.ts';
import { DEFAULT_ENCODER, DEFAULT_SEMANTIC_WEIGHT, type EncoderChoice, parseEncoderChoice, semanticEncoderFor, semanticPlan } from './llm/encoders.ts';
import { evaluate, evaluateArtifact, type EvalResult } from './llm/evaluate.ts';
import { MULTI_TURN_USAGE, multiTurnFlags, parseMultiTurn, type MultiTurnOptions } from './llm/multiturn.ts';
import { markdownReport } from './llm/report.ts';
import { progressBar } from './progress.ts';
import { initTf } from './tf.ts';

const USAGE = `moma eval --data PATH [--data PATH ...] [--artifact DIR [--rows all|test] [--knn-train PATH] [--model-alias FROM=TO ...]] [--models ID,ID...] [--prices FILE]
          [--split data|tasks] [--encoder lexical|static|fused] [--semantic-weight W] [--json] [--dim N] [--seed N] [--k N] [--quiet]
  Without --artifact: trains the router on the data's train split and scores its test split. With --artifact: scores
  that trained artifact on the data (all rows by default: a held-out file) without retraining, on the models both
  know; --model-alias FROM=TO evaluates the data's model FROM as the artifact's TO (the same model named differently
  by another benchmark, e.g. mistralai/mixtral-8x7b-chat=mistralai/Mixtral-8x7B-Instruct-v0.1).
  --models ID,ID...: route among these models of the data only (at least two; after --model-alias, by the artifact's
  names), e.g. two of RouterBench's eleven for a strong/weak pair with APGR.
  Reported per task and for all tasks: AIQ, max quality, cost at the best single model's quality, the modes
  (and APGR/CPT for two models), beside the baselines: zero router, kNN (with --knn-train when evaluating an
  artifact), MLP (when training), random (measured over 200 seeds), oracle, best single.
  Data: routing-data files or folders, or RouterBench / RouteLLM / LLMRouter files (see moma data --help).
  --split tasks: train on some tasks and test on the others (whole tasks held out), instead of the data's split.
  --encoder (when training): the features, as in moma train --help (default ${DEFAULT_ENCODER}; fused weight default
  ${DEFAULT_SEMANTIC_WEIGHT}). With --artifact the encoder is the one the artifact records (its semantic encoder is loaded).
  --json prints one JSON object on stdout.
${MULTI_TURN_USAGE}`;

/** Keeps the JSON small: curves are for the docs' plots, not the one-line summary. */
function compact(r: EvalResult): unknown {
  return JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'points' ? undefined : typeof v === 'number' ? Number(v.toPrecision(6)) : v)));
}

export interface EvalRunOptions {
  dim: number;
  seed: number;
  k: number;
  quiet: boolean;
  prices?: Prices;
  byTask?: boolean;
  encoder?: EncoderChoice;
  semanticWeight?: number;
  multiTurn?: MultiTurnOptions;
  /** Only these models of the data (selectModels). */
  models?: readonly string[];
}

export async function runEvalOn(data: string | string[], opts: EvalRunOptions): Promise<EvalResult> {
  return (await trainAndEval(data, opts)).result;
}

/** runEvalOn, also returning the artifact it trained and the data it loaded (to score it on other data). */
export async function trainAndEval(data: string | string[], opts: EvalRunOptions): Promise<{ result: EvalResult; artifact: RouterArtifact; data: RoutingDataset }> {
  const semantic = await semanticPlan(opts.encoder ?? DEFAULT_ENCODER, opts.semanticWeight);
  await initTf('wasm');
  const loaded = selectModels(loadDataset(data, opts.prices ? { prices: opts.prices } : {}), opts.models ?? []);
  const ds = opts.byTask ? holdOutTasks(loaded) : loaded;
  const bar = progressBar(`eval ${ds.name}`, opts.quiet);
  const { result, trained } = evaluate(ds, { dim: opts.dim, seed: opts.seed, knnK: opts.k, onProgress: bar.update, ...(semantic ? { semantic } : {}), ...(opts.multiTurn ? { multiTurn: opts.multiTurn } : {}) });
  bar.stop();
  return { result, artifact: trained.artifact, data: ds };
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
      'model-alias': { type: 'string', multiple: true },
      models: { type: 'string' },
      prices: { type: 'string' },
      json: { type: 'boolean', default: false },
      dim: { type: 'string', default: '4096' },
      seed: { type: 'string', default: '7' },
      k: { type: 'string', default: '40' },
      encoder: { type: 'string' },
      'semantic-weight': { type: 'string', default: String(DEFAULT_SEMANTIC_WEIGHT) },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      ...multiTurnFlags,
    },
  });
  // Multi-turn evaluation (--turns, --switch-costs): see llm/multiturn.ts.
  const multiTurn = parseMultiTurn(values.turns, values['switch-costs'], Number(values.seed));
  if (typeof multiTurn === 'string') {
    console.error(multiTurn);
    return 2;
  }
  const encoder = parseEncoderChoice(values.encoder);
  if (values.artifact && values.encoder !== undefined) {
    console.error('--encoder applies when training; with --artifact the encoder is the one the artifact records');
    return 2;
  }
  if (!values.artifact && values['model-alias']?.length) {
    console.error('--model-alias applies with --artifact (it names data models the way the artifact does)');
    return 2;
  }
  if (values.help || !values.data?.length || !encoder || (values.rows !== 'all' && values.rows !== 'test') || (values.split !== 'data' && values.split !== 'tasks')) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  let aliases: Map<string, string>;
  let models: string[];
  try {
    aliases = parseModelAliases(values['model-alias']);
    models = parseModelList(values.models);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const prices = readPrices(values.prices);
  const opts = { dim: Number(values.dim), seed: Number(values.seed), k: Number(values.k), quiet: values.quiet, ...(prices ? { prices } : {}), models };
  let result: EvalResult;
  if (values.artifact) {
    const artifact = readArtifactDir(values.artifact);
    const data = selectModels(renameModels(loadDataset(values.data, prices ? { prices } : {}), aliases), models);
    // The kNN data may name its models either way: only the aliases it has apply to it.
    const knnTrain = values['knn-train']?.length ? renameModels(loadDataset(values['knn-train'], prices ? { prices } : {}), aliases, { onlyPresent: true }) : undefined;
    const semantic = await semanticEncoderFor(artifact);
    result = evaluateArtifact(artifact, data, { seed: opts.seed, knnK: opts.k, rows: values.rows as 'all' | 'test', ...(knnTrain ? { knnTrain } : {}), ...(semantic ? { semantic } : {}), ...(multiTurn ? { multiTurn } : {}) });
  } else {
    result = await runEvalOn(values.data, { ...opts, byTask: values.split === 'tasks', encoder, semanticWeight: Number(values['semantic-weight']), ...(multiTurn ? { multiTurn } : {}) });
  }
  if (values.json) process.stdout.write(`${JSON.stringify(compact(result))}\n`);
  else process.stdout.write(markdownReport(result));
  return 0;
}
