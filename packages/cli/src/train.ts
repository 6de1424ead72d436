import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDataset, parseModelList, selectModels } from './data/load.ts';
import { readPrices } from './data/prices.ts';
import { writeArtifactDir } from './llm/artifact-files.ts';
import { DEFAULT_ENCODER, DEFAULT_SEMANTIC_WEIGHT, parseEncoderChoice, semanticPlan } from './llm/encoders.ts';
import { DEFAULT_HEADS, trainRouter } from './llm/pipeline.ts';
import { progressBar } from './progress.ts';
import { initTf } from './tf.ts';

const USAGE = `moma train --data PATH [--data PATH ...] [--prices FILE] [--models ID,ID...] [--out DIR] [--name NAME] [--dim N] [--seed N]
           [--encoder lexical|static|fused] [--semantic-weight W] [--quiet] [--json]
  Trains the LLM router (hashing encoder + linear, MLP and gated-experts heads) on the train split of routing data
  (files or folders in the routing-data format, or RouterBench / RouteLLM / LLMRouter files; several are combined)
  and writes a versioned artifact (manifest.json + weights.bin). Default out: artifacts/<name>.
  --prices FILE: prices per model (see moma data --help); needed for models the data gives no cost for.
  --models ID,ID...: train for these models of the data only (at least two): the pool you serve.
  --encoder: the heads' features. lexical = hashed word/char n-gram TF-IDF (--dim buckets); static = the static
  distillation of the Universal Sentence Encoder (@moma/semantic, 512 dims); fused = both, concatenated with the
  semantic part weighted √W and the lexical √(1−W) (--semantic-weight, default ${DEFAULT_SEMANTIC_WEIGHT}). Default ${DEFAULT_ENCODER}.
  The artifact records it; whoever serves it must load the same semantic encoder.`;

const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export async function runTrain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string', multiple: true },
      prices: { type: 'string' },
      models: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string', default: 'default' },
      dim: { type: 'string', default: '4096' },
      seed: { type: 'string', default: '7' },
      encoder: { type: 'string', default: DEFAULT_ENCODER },
      'semantic-weight': { type: 'string', default: String(DEFAULT_SEMANTIC_WEIGHT) },
      backend: { type: 'string', default: 'wasm' },
      quiet: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const encoder = parseEncoderChoice(values.encoder);
  if (values.help || !values.data?.length || !encoder) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  // the name is the default folder (artifacts/<name>) and starts the router version, sent in x-moma-router-version
  if (!ARTIFACT_NAME.test(values.name)) {
    console.error(`--name must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit (got ${JSON.stringify(values.name)})`);
    return 2;
  }
  const semantic = await semanticPlan(encoder, Number(values['semantic-weight']));
  const backend = await initTf(values.backend === 'cpu' ? 'cpu' : 'wasm');
  const prices = readPrices(values.prices);
  const ds = selectModels(loadDataset(values.data, prices ? { prices } : {}), parseModelList(values.models));
  const train = ds.rows.filter((r) => r.split === 'train');
  const bar = progressBar('train', values.quiet);
  const started = Date.now();
  const res = trainRouter(ds, train, { dim: Number(values.dim), valFraction: 0.15, seed: Number(values.seed), heads: DEFAULT_HEADS, onProgress: bar.update, ...(semantic ? { semantic } : {}) }, values.name);
  bar.stop();
  res.artifact.training = { ...res.artifact.training, encoderChoice: encoder, backend, trainSeconds: (Date.now() - started) / 1000, trainedAt: new Date().toISOString() };
  const out = values.out ?? path.join('artifacts', values.name);
  const { manifestPath, bytes } = writeArtifactDir(out, res.artifact);
  console.error(`wrote ${manifestPath} (+ weights.bin, ${(bytes / 1e6).toFixed(2)} MB), version ${res.artifact.version}, modes ${JSON.stringify(res.artifact.modes)}`);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ artifact: out, version: res.artifact.version, models: res.artifact.models.map((m) => m.id), rows: res.artifact.training.rows, ensemble: res.artifact.training.ensemble, modes: res.artifact.modes, encoder, semantic: res.artifact.semantic ?? null, bytes })}\n`,
    );
  }
  return 0;
}
