import { fileURLToPath } from 'node:url';
import { createLlmRouter, decodeArtifact, encodeArtifact } from '@moma/core';
import { type TrainSet, trainHead } from '@moma/core/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, parseModelAliases, renameModels } from '../data/load.ts';
import { initTf } from '../tf.ts';
import { semanticPlan, staticSemanticEncoder } from './encoders.ts';
import { evaluate, evaluateArtifact } from './evaluate.ts';

beforeAll(async () => {
  await initTf('cpu');
});

/** Two clusters of inputs; model 0 is right on the first, model 1 on the second. */
function toySet(n = 64, dim = 16): TrainSet {
  const X = new Float32Array(n * dim);
  const Y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    X[i * dim + c] = 1;
    X[i * dim + 2 + (i % 5)] = 0.5;
    Y[i * 2] = c === 0 ? 1 : 0;
    Y[i * 2 + 1] = c === 0 ? 0 : 1;
  }
  return { n, dim, models: 2, X, Y };
}

describe('training - heads learn', () => {
  for (const [kind, objective] of [['linear', 'pointwise'], ['mlp', 'pointwise'], ['moe', 'pointwise'], ['mlp', 'pairwise'], ['moe', 'pairwise']] as const) {
    it(`${kind}/${objective} - training lowers the loss`, () => {
      const res = trainHead(toySet(), { kind, objective, hidden: 8, experts: 2, epochs: 25, batchSize: 16, learningRate: 0.05 });
      expect(res.losses.at(-1)!).toBeLessThan(res.losses[0]! * 0.7);
      expect(res.head.kind).toBe(kind);
    });
  }
});

describe('evaluation - end to end on a small LLMRouter excerpt', () => {
  // Trained once, for both tests.
  let trainedOnce: ReturnType<typeof trainSmall> | undefined;
  const trainSmall = () => {
    const ds = loadDataset(fileURLToPath(new URL('../data/fixtures/llmrouter-excerpt.jsonl', import.meta.url)));
    const heads = [
      { name: 'linear', train: { kind: 'linear' as const, epochs: 3 } },
      { name: 'mlp', train: { kind: 'mlp' as const, hidden: 8, epochs: 3 } },
    ];
    return { ds, ...evaluate(ds, { dim: 512, seed: 1, knnK: 5, heads }) };
  };
  const small = () => (trainedOnce ??= trainSmall());

  it('evaluate - reports AIQ beside every baseline and yields a loadable artifact', () => {
    const { result, trained } = small();
    // All tasks together first, then one group per task.
    expect(result.evals[0]!.name).toBe('all');
    expect(result.evals.length).toBeGreaterThan(2);
    const g = result.evals[0]!;
    expect(g.queries).toBe(result.evals.slice(1).reduce((s, e) => s + e.queries, 0));
    // The random router is measured over seeds, not assumed.
    expect(g.baselines.random.seeds).toBe(200);
    expect(g.baselines.random.qualitySd).toBeGreaterThan(0);
    for (const v of [g.router.aiq, g.baselines.zero.aiq, g.baselines.knn!.aiq, g.baselines.mlp!.aiq, g.baselines.random.aiq, g.baselines.oracle.aiq]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(g.baselines.oracle.quality).toBeGreaterThanOrEqual(g.baselines.bestSingle.quality);
    const { manifest, weights } = encodeArtifact(trained.artifact);
    const router = createLlmRouter(decodeArtifact(manifest, weights));
    expect(router.route({ text: 'What is 2 + 2?' }, { mode: 'balanced' }).ranked).toHaveLength(9);
  });

  it('evaluate an artifact - scores a trained artifact on other data without retraining, on the models both know', () => {
    const { ds, trained } = small();
    const res = evaluateArtifact(trained.artifact, ds, { seed: 3, knnK: 5, rows: 'test', knnTrain: ds });
    expect(res.evals[0]!.name).toBe('all');
    expect(res.evals[0]!.queries).toBe(ds.rows.filter((r) => r.split === 'test' && !r.scores.some(Number.isNaN)).length);
    expect(res.evals[0]!.baselines.knn).toBeDefined();
    expect(res.evals[0]!.baselines.mlp).toBeUndefined();
    expect(res.notes[0]).toMatch(/evaluated without retraining/);
    // A pool that shares only some models: the router chooses among the shared ones, and says which it lacks.
    const fewer = { ...ds, models: ds.models.slice(0, 3).map((m, i) => (i === 0 ? { ...m, id: 'unknown-model' } : m)), rows: ds.rows.map((r) => ({ ...r, scores: r.scores.slice(0, 3), costUsd: r.costUsd.slice(0, 3) })) };
    const part = evaluateArtifact(trained.artifact, fewer, { seed: 3, knnK: 5, rows: 'all' });
    expect(part.models.map((m) => m.id)).toEqual(ds.models.slice(1, 3).map((m) => m.id));
    expect(part.notes.join(' ')).toMatch(/not routable; see moma pool add\): unknown-model/);
    expect(part.evals[0]!.router.apgr).toBeDefined(); // two shared models: APGR is reported
    const none = { ...fewer, models: fewer.models.map((m) => ({ ...m, id: `x-${m.id}` })) };
    expect(() => evaluateArtifact(trained.artifact, none, { seed: 3, knnK: 5, rows: 'all' })).toThrow(/share 0 model/);
    // The same models named another way (another benchmark's names): --model-alias maps them back.
    const aliases = parseModelAliases(none.models.map((m) => `${m.id}=${m.id.slice(2)}`));
    const back = evaluateArtifact(trained.artifact, renameModels(none, aliases), { seed: 3, knnK: 5, rows: 'all' });
    expect(back.evals[0]!.router.apgr).toBeCloseTo(part.evals[0]!.router.apgr!, 6);
    expect(back.notes.join(' ')).toContain(`the data's ${none.models[1]!.id} is evaluated as ${fewer.models[1]!.id}`);
  });

  it('model aliases - a malformed flag, an alias for a model the data lacks, or two models given one id name what is wrong', () => {
    const { ds } = small();
    expect(() => parseModelAliases(['no-equals-sign'])).toThrow(/expected DATA_MODEL=ARTIFACT_MODEL/);
    expect(() => parseModelAliases(['a='])).toThrow(/expected DATA_MODEL=ARTIFACT_MODEL/);
    expect(() => parseModelAliases(['a=b', 'a=c'])).toThrow(/gives a twice/);
    expect(() => renameModels(ds, parseModelAliases(['nope=x']))).toThrow(/names nope, not a model of/);
    const [m0, m1] = ds.models;
    expect(() => renameModels(ds, parseModelAliases([`${m0!.id}=${m1!.id}`]))).toThrow(`gives two models of ${ds.name} the id ${m1!.id}`);
    expect(renameModels(ds, new Map())).toBe(ds);
    // onlyPresent (kNN data that may already use the artifact's names): the aliases it lacks are left out
    expect(renameModels(ds, parseModelAliases(['nope=x']), { onlyPresent: true })).toBe(ds);
    expect(renameModels(ds, parseModelAliases(['nope=x', `${m0!.id}=renamed`]), { onlyPresent: true }).models[0]!.id).toBe('renamed');
  });
});

describe('evaluation - semantic features (static encoder fused with the lexical one)', () => {
  it('fused - trains on concat(lexical, semantic), records the section, and the artifact needs the encoder to route', async () => {
    const ds = loadDataset(fileURLToPath(new URL('../data/fixtures/llmrouter-excerpt.jsonl', import.meta.url)));
    const semantic = (await semanticPlan('fused', 0.5))!;
    const heads = [{ name: 'mlp', train: { kind: 'mlp' as const, hidden: 8, epochs: 2 } }];
    const { result, trained } = evaluate(ds, { dim: 256, seed: 1, knnK: 5, heads, semantic });
    expect(result.encoder).toMatch(/^fused\(hashing-tfidf:256.*\|static\(/);
    expect(trained.artifact.semantic).toEqual({ id: semantic.encoder.id, dim: 512, weight: 0.5 });
    expect(trained.artifact.heads[0]!.tensors.W1!.shape[0]).toBe(256 + 512);
    const { manifest, weights } = encodeArtifact(trained.artifact);
    const a = decodeArtifact(JSON.parse(JSON.stringify(manifest)), weights);
    expect(a.semantic).toEqual(trained.artifact.semantic);
    expect(() => createLlmRouter(a)).toThrow(/pass it to createLlmRouter/);
    const router = createLlmRouter(a, { semantic: await staticSemanticEncoder() });
    expect(router.route({ text: 'What is 2 + 2?' }, { mode: 'balanced' }).ranked).toHaveLength(9);
    // Scoring the artifact again with the encoder it records gives the figures of the run that trained it.
    const again = evaluateArtifact(a, ds, { seed: 1, knnK: 5, rows: 'test', semantic: semantic.encoder });
    expect(again.evals[0]!.router.aiq).toBeCloseTo(result.evals[0]!.router.aiq, 4);
    expect(() => evaluateArtifact(a, ds, { seed: 1, knnK: 5, rows: 'test' })).toThrow(/semantic encoder/);
  });
});
