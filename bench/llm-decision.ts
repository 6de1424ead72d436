// In-process LLM routing decision latency: encode + score + choose, over distinct queries (no cache hits).
// Usage: node bench/llm-decision.ts [--artifact DIR] [--models N] [--n N]
// Default: the committed artifacts/default, widened to 11 models (RouterBench's count) with random weights of the
// same layer shapes, since the decision cost depends on shapes, not values.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLlmRouter, type HeadSpec, type RouterArtifact, warmTokenizer } from '@moma/core';
import { rng } from '@moma/core/train';
import { readArtifactDir } from '../packages/cli/src/llm/artifact-files.ts';
import { semanticEncoderFor } from '../packages/cli/src/llm/encoders.ts';

const { values } = parseArgs({
  options: { artifact: { type: 'string', default: fileURLToPath(new URL('../artifacts/default', import.meta.url)) }, models: { type: 'string', default: '11' }, n: { type: 'string', default: '5000' } },
});

function widen(a: RouterArtifact, m: number): RouterArtifact {
  if (a.models.length === m) return a;
  const rand = rng(1);
  const models = Array.from({ length: m }, (_, i) => ({ ...a.models[i % a.models.length]!, id: `model-${i}` }));
  const heads: HeadSpec[] = a.heads.map((h) => {
    const tensors: HeadSpec['tensors'] = {};
    for (const [name, t] of Object.entries(h.tensors)) {
      const shape = [...t.shape];
      if (shape.at(-1) === a.models.length) shape[shape.length - 1] = m;
      const size = shape.reduce((x, y) => x * y, 1);
      tensors[name] = { shape, data: Float32Array.from({ length: size }, () => (rand() - 0.5) * 0.1) };
    }
    return { ...h, tensors };
  });
  return { ...a, models, heads };
}

const artifact = widen(readArtifactDir(values.artifact), Number(values.models));
// An artifact trained with a semantic encoder needs it (the static encoder of @moma/semantic), as the scoring service loads it.
const semantic = await semanticEncoderFor(artifact);
const router = createLlmRouter(artifact, semantic ? { semantic } : {});
warmTokenizer();
const topics = ['python', 'calculus', 'French history', 'SQL joins', 'protein folding', 'tax law', 'poetry', 'chess', 'Rust lifetimes', 'climate'];
const verbs = ['Explain', 'Write a function for', 'Summarize', 'Compare approaches to', 'What is the key idea of', 'Give three examples of'];
const n = Number(values.n);
const queries = Array.from({ length: n }, (_, i) => `${verbs[i % verbs.length]} ${topics[(i * 7) % topics.length]} in case ${i}, step ${i % 13}?`);
const modes = ['quality', 'balanced', 'cost'] as const;
for (let i = 0; i < 500; i++) router.route({ text: `warm-up ${i}` }, { mode: 'balanced' });
const times = new Float64Array(n);
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  router.route({ text: queries[i]! }, { mode: modes[i % 3]! });
  times[i] = performance.now() - t0;
}
times.sort();
const q = (p: number): number => times[Math.min(n - 1, Math.floor(p * n))]!;
console.log(
  JSON.stringify({
    bench: 'llm-decision',
    models: artifact.models.length,
    heads: artifact.heads.map((h) => h.kind),
    encoderDim: artifact.encoder.dim,
    semantic: artifact.semantic ?? null,
    decisions: n,
    medianMs: Number(q(0.5).toFixed(4)),
    p99Ms: Number(q(0.99).toFixed(4)),
  }),
);
