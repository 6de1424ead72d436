// How close `moma pool add` comes to full retraining, on held-out prompts. One model of a routing dataset is held
// out of training; it is onboarded from N anchor prompts of the train split (its recorded scores, --from-data); a
// second router is trained with it on the whole train split. Both are scored on the test split: the held-out
// model's predicted quality against its true score (MAE, correlation) and the routing figures (AIQ, quality mode).
// Usage: node bench/pool-onboarding.ts --data FILE [--model ID] [--anchors N] [--dim N]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLlmRouter, extractQuestion } from '@moma/core';
import { importFile } from '../packages/cli/src/data/import.ts';
import { loadDataset } from '../packages/cli/src/data/load.ts';
import { readArtifactDir } from '../packages/cli/src/llm/artifact-files.ts';
import { staticSemanticEncoder } from '../packages/cli/src/llm/encoders.ts';
import { evaluateArtifact } from '../packages/cli/src/llm/evaluate.ts';
import { runPool } from '../packages/cli/src/pool.ts';
import { initTf } from '../packages/cli/src/tf.ts';
import { runTrain } from '../packages/cli/src/train.ts';
import type { RoutingDataRow } from '../packages/cli/src/data/format.ts';
import { detectSource } from '../packages/cli/src/data/import.ts';

const { values } = parseArgs({
  options: { data: { type: 'string' }, model: { type: 'string' }, anchors: { type: 'string', default: '200' }, dim: { type: 'string', default: '4096' } },
});
if (!values.data) {
  console.error('usage: node bench/pool-onboarding.ts --data FILE [--model ID] [--anchors N] [--dim N]');
  process.exit(2);
}
await initTf('wasm');
const dir = mkdtempSync(path.join(tmpdir(), 'moma-onboard-'));
try {
  // The data as routing-data rows (imported when it is a source format).
  const first = JSON.parse(readFileSync(values.data, 'utf8').split('\n')[0]!);
  const rows: RoutingDataRow[] = detectSource(first) === 'moma' ? readFileSync(values.data, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : importFile(values.data).rows;
  const full = path.join(dir, 'full.jsonl');
  writeFileSync(full, rows.map((r) => JSON.stringify(r)).join('\n'));
  const ds = loadDataset(full);
  const held = values.model ?? ds.models[ds.models.length - 1]!.id;
  if (!ds.models.some((m) => m.id === held)) throw new Error(`${held} is not a model of the data (${ds.models.map((m) => m.id).join(', ')})`);
  const drop = (rec: Record<string, unknown> | undefined) => rec && Object.fromEntries(Object.entries(rec).filter(([k]) => k !== held));
  const rest = path.join(dir, 'rest.jsonl');
  writeFileSync(rest, rows.map((r) => JSON.stringify({ ...r, scores: drop(r.scores), tokens: drop(r.tokens), cost_usd: drop(r.cost_usd) })).join('\n'));
  const anchors = path.join(dir, 'anchors.jsonl');
  writeFileSync(anchors, rows.filter((r) => r.split !== 'test').map((r) => JSON.stringify(r)).join('\n'));

  const t0 = Date.now();
  if ((await runTrain(['--data', rest, '--out', path.join(dir, 'rest'), '--name', 'rest', '--dim', values.dim!, '--quiet'])) !== 0) throw new Error('training without the model failed');
  const t1 = Date.now();
  const prices = ds.models.find((m) => m.id === held)!;
  const providers = JSON.stringify([{ name: 'data', baseUrl: 'http://127.0.0.1:9/v1', models: [held], prices: { [held]: { input: prices.inputPricePerMTok, output: prices.outputPricePerMTok } } }]);
  const log: string[] = [];
  const poolCode = await runPool(['add', held, '--artifact', path.join(dir, 'rest'), '--anchors', anchors, '--from-data', '--budget', values.anchors!, '--out', path.join(dir, 'onboarded')], {
    env: { MOMA_PROVIDERS: providers },
    out: (l) => log.push(l),
    err: (l) => log.push(l),
  });
  if (poolCode !== 0) throw new Error(`pool add failed: ${log.join('\n')}`);
  const t2 = Date.now();
  if ((await runTrain(['--data', full, '--out', path.join(dir, 'retrained'), '--name', 'retrained', '--dim', values.dim!, '--quiet'])) !== 0) throw new Error('full retraining failed');
  const t3 = Date.now();

  const test = ds.rows.filter((r) => r.split === 'test' && !r.scores.some(Number.isNaN));
  const col = ds.models.findIndex((m) => m.id === held);
  const semantic = await staticSemanticEncoder();
  const quality = (dirName: string) => {
    const artifact = readArtifactDir(path.join(dir, dirName));
    const router = createLlmRouter(artifact, artifact.semantic ? { semantic } : {});
    return test.map((r) => router.route({ text: extractQuestion(r.prompt) }, { mode: 'quality' }).ranked.find((c) => c.model === held)!.predictedQuality);
  };
  const truth = test.map((r) => r.scores[col]!);
  const stats = (pred: number[]) => {
    const mae = pred.reduce((s, p, i) => s + Math.abs(p - truth[i]!), 0) / pred.length;
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const [mp, mt] = [mean(pred), mean(truth)];
    const cov = pred.reduce((s, p, i) => s + (p - mp) * (truth[i]! - mt), 0);
    const sp = Math.sqrt(pred.reduce((s, p) => s + (p - mp) ** 2, 0));
    const st = Math.sqrt(truth.reduce((s, t) => s + (t - mt) ** 2, 0));
    return { mae, corr: sp > 0 && st > 0 ? cov / (sp * st) : 0, meanPredicted: mp };
  };
  const route = (dirName: string) => {
    const res = evaluateArtifact(readArtifactDir(path.join(dir, dirName)), ds, { seed: 7, knnK: 40, rows: 'test', semantic });
    const g = res.evals[0]!;
    return { aiq: g.router.aiq, qualityMode: g.router.modes.quality.quality, qualityModeCostVsBest: g.router.modes.quality.costVsBestSingle, bestSingle: g.baselines.bestSingle.quality };
  };
  const onboarded = { ...stats(quality('onboarded')), ...route('onboarded'), seconds: (t2 - t1) / 1000 };
  const retrained = { ...stats(quality('retrained')), ...route('retrained'), seconds: (t3 - t2) / 1000 };
  console.log(JSON.stringify({ dataset: ds.name, heldOut: held, anchors: Number(values.anchors), testRows: test.length, trueMean: truth.reduce((a, b) => a + b, 0) / truth.length, poolAdd: log.find((l) => l.startsWith('onboarded')), trainWithoutSeconds: (t1 - t0) / 1000, onboarded, retrained }, null, 1));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
