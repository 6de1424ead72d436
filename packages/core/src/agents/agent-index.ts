import { HashingEncoder, type Encoder } from '../encoder/index.ts';
import { InvalidInputError } from '../errors.ts';
import { sphericalKMeans } from './cluster.ts';
import { SoftmaxHead } from './head.ts';
import { SparseHashingEncoder } from './sparse-encoder.ts';
import { blend, dotSparse, SparseMatrix, toSparse, type SparseVec } from './sparse.ts';
import { agentTexts } from './texts.ts';
import type { AgentIndex, AgentIndexOptions, AgentSpec, ClassifyResult, ScoreWeights, Taxonomy } from './types.ts';

// Chosen on CLINC150 val/test runs: kNN adds nothing over the head there and costs most of the decision time.
const DEFAULT_WEIGHTS: ScoreWeights = { head: 0.85, knn: 0, centroid: 0.15 };
const DEFAULT_HEAD = { epochs: 16, learningRate: 1.5 };

interface Category {
  id: string;
  members: number[];
  /** Encoded description + examples of a taxonomy category; null for bottom-up clusters. */
  text: SparseVec | null;
}

/**
 * Builds the hybrid category index: top-down categories from the taxonomy (and AgentSpec.category), bottom-up
 * clusters of the remaining agents' skill texts, and an agent scorer (softmax head + kNN + centroid) fitted only on
 * the cards and the taxonomy given.
 */
export function buildAgentIndex(agents: readonly AgentSpec[], taxonomy?: Taxonomy, options: AgentIndexOptions = {}): AgentIndex {
  const ids = new Set<string>();
  for (const a of agents) {
    if (ids.has(a.id)) throw new InvalidInputError(`duplicate agent id "${a.id}"`, 'agents');
    ids.add(a.id);
  }
  const texts = agents.map((a) => agentTexts(a.card));
  const taxCats = taxonomy?.categories ?? [];
  const taxTexts = taxCats.map((c) => [c.description, ...(c.examples ?? [])].filter((t) => t.trim()).join('. '));
  let encoder: Encoder | SparseHashingEncoder | undefined = options.encoder;
  if (!encoder) {
    const fitted = HashingEncoder.fit([...texts.flat(), ...taxTexts], { dim: options.dim ?? 1 << 15 });
    encoder = new SparseHashingEncoder(fitted.state, fitted.id);
  }
  const dim = encoder.dim;
  const sparseEncoder = encoder instanceof SparseHashingEncoder ? encoder : null;
  const denseEncoder = encoder;
  const enc = (t: string): SparseVec => (sparseEncoder ? sparseEncoder.encodeSparse(t) : toSparse(denseEncoder.encode(t)));

  const sampleVecs: SparseVec[] = [];
  const sampleAgent: number[] = [];
  const centroids: SparseVec[] = [];
  texts.forEach((ts, a) => {
    const vs = ts.map(enc);
    for (const v of vs) {
      sampleVecs.push(v);
      sampleAgent.push(a);
    }
    centroids.push(blend(vs.map((vec) => ({ vec, weight: 1 }))));
  });
  const samples = new SparseMatrix(sampleVecs, dim);
  const centroidMatrix = new SparseMatrix(centroids, dim);
  const head =
    options.head === false || agents.length < 2 ? null : SoftmaxHead.fit(sampleVecs, sampleAgent, dim, agents.length, { ...DEFAULT_HEAD, ...options.head });

  const categories = buildCategories(agents, taxonomy, taxTexts.map((t) => (t ? enc(t) : null)), centroids, dim, options.clusters);
  const agentCats = agents.map(() => [] as number[]);
  categories.forEach((c, ci) => c.members.forEach((m) => agentCats[m]!.push(ci)));

  const w0 = { ...DEFAULT_WEIGHTS, ...(head ? {} : { head: 0 }), ...options.weights };
  const wsum = w0.head + w0.knn + w0.centroid || 1;
  const w: ScoreWeights = { head: w0.head / wsum, knn: w0.knn / wsum, centroid: w0.centroid / wsum };
  const knnK = options.knnK ?? 3;
  const threshold = options.threshold ?? 0.35;
  const defaultTopK = options.topKCategories ?? 3;
  const ctxWeight = options.contextWeight ?? 0.35;
  const ctxTurns = options.contextTurns ?? 2;
  const temperature = options.headTemperature ?? 1;
  const shiftCutoff = options.shiftContextCutoff ?? 0.5;

  const sampleScores = new Float32Array(sampleVecs.length);
  const centScores = new Float32Array(agents.length);
  const probs = new Float32Array(agents.length);
  const top = new Float32Array(knnK);

  function scoreAgents(q: SparseVec): Float64Array {
    const out = new Float64Array(agents.length);
    if (w.knn > 0) samples.scores(q, sampleScores);
    centroidMatrix.scores(q, centScores);
    if (head) headProbs(head, q, probs, temperature);
    // samples are grouped by agent in order, so one pass keeps a running top-k per agent
    let s = 0;
    for (let a = 0; a < agents.length; a++) {
      top.fill(-1);
      let n = 0;
      for (; w.knn > 0 && s < sampleAgent.length && sampleAgent[s] === a; s++, n++) {
        const v = sampleScores[s]!;
        if (v > top[knnK - 1]!) {
          let j = knnK - 1;
          while (j > 0 && top[j - 1]! < v) {
            top[j] = top[j - 1]!;
            j--;
          }
          top[j] = v;
        }
      }
      let knn = 0;
      const m = Math.min(knnK, n);
      for (let j = 0; j < m; j++) knn += top[j]!;
      knn = m > 0 ? knn / m : 0;
      out[a] = w.head * (head ? probs[a]! : 0) + w.knn * Math.max(0, knn) + w.centroid * Math.max(0, centScores[a]!);
    }
    return out;
  }

  function queryVec(text: string, context?: ReadonlyArray<{ role: string; content: string }>): SparseVec {
    const parts = [{ vec: enc(text), weight: 1 }];
    if (context && ctxWeight > 0) {
      const recent = context.filter((m) => m.content.trim()).slice(-ctxTurns);
      recent.forEach((m, i) => parts.push({ vec: enc(m.content), weight: ctxWeight * 0.6 ** (recent.length - 1 - i) }));
    }
    return parts.length === 1 ? parts[0]!.vec : blend(parts);
  }

  return {
    size: agents.length,
    classify(text, context, topK): ClassifyResult {
      if (typeof text !== 'string' || !text.trim()) throw new InvalidInputError('query text is empty', 'text');
      const k = Math.max(1, topK && topK > 0 ? topK : defaultTopK);
      const lastSystem = context ? ([...context].reverse().find((m) => m.role !== 'user')?.content ?? '') : '';
      const shift = options.shift ? options.shift.score(text, lastSystem) : undefined;
      // a turn that starts a new task is scored on its own: the earlier turns belong to the previous task
      const q = queryVec(text, shift !== undefined && shift >= shiftCutoff ? undefined : context);
      const scores = scoreAgents(q);
      const catScores = categories.map((c) => {
        let best = 0;
        for (const m of c.members) best = Math.max(best, scores[m]!);
        // a taxonomy description can lift a category a little, but agents' evidence dominates
        return best + (c.text ? 0.1 * Math.max(0, dotSparse(c.text, q)) : 0);
      });
      const order = categories.map((_, i) => i).sort((a, b) => catScores[b]! - catScores[a]!);
      const chosen = order.slice(0, k).filter((ci) => categories[ci]!.members.length > 0 || catScores[ci]! > 0);
      const viaCat = new Map<number, number>();
      for (const ci of chosen) for (const m of categories[ci]!.members) if (!viaCat.has(m)) viaCat.set(m, ci);
      const candidates = [...viaCat.entries()]
        .map(([a, ci]) => ({ agentId: agents[a]!.id, score: round(scores[a]!), category: categories[ci]!.id }))
        .sort((x, y) => y.score - x.score);
      const best = candidates[0]?.score ?? 0;
      return {
        ...(shift !== undefined ? { shift: round(shift) } : {}),
        categories: chosen.map((ci) => ({ category: categories[ci]!.id, score: round(catScores[ci]!) })),
        candidates,
        inScope: candidates.length > 0 && best >= threshold,
        threshold,
      };
    },
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function headProbs(head: SoftmaxHead, q: SparseVec, out: Float32Array, temperature: number): void {
  if (temperature === 1) {
    head.probsInto(q, out);
    return;
  }
  head.probsInto(q, out);
  let sum = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.pow(out[i]!, 1 / temperature);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
}

function buildCategories(
  agents: readonly AgentSpec[],
  taxonomy: Taxonomy | undefined,
  taxVecs: Array<SparseVec | null>,
  centroids: readonly SparseVec[],
  dim: number,
  clusters: number | undefined,
): Category[] {
  const byId = new Map<string, Category>();
  const index = new Map(agents.map((a, i) => [a.id, i]));
  (taxonomy?.categories ?? []).forEach((c, i) => {
    const members = (c.agentIds ?? []).map((id) => index.get(id)).filter((m): m is number => m !== undefined);
    byId.set(c.id, { id: c.id, members: [...new Set(members)], text: taxVecs[i] ?? null });
  });
  agents.forEach((a, i) => {
    if (!a.category) return;
    const c = byId.get(a.category) ?? { id: a.category, members: [], text: null };
    if (!c.members.includes(i)) c.members.push(i);
    byId.set(a.category, c);
  });
  const placed = new Set<number>();
  for (const c of byId.values()) for (const m of c.members) placed.add(m);
  const rest = agents.map((_, i) => i).filter((i) => !placed.has(i));
  if (rest.length > 0) {
    const k = clusters ?? Math.max(1, Math.round(Math.sqrt(rest.length)));
    const assign = sphericalKMeans(rest.map((i) => centroids[i]!), dim, k);
    rest.forEach((agent, j) => {
      const id = `cluster:${assign[j]}`;
      const c = byId.get(id) ?? { id, members: [], text: null };
      c.members.push(agent);
      byId.set(id, c);
    });
  }
  return [...byId.values()];
}
