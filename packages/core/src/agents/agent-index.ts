import { HashingEncoder, type Encoder, type HashingEncoderState } from '../encoder/index.ts';
import { InvalidInputError } from '../errors.ts';
import { sphericalKMeans } from './cluster.ts';
import { SoftmaxHead } from './head.ts';
import { Lda, type LdaState } from './lda.ts';
import { SparseHashingEncoder } from './sparse-encoder.ts';
import { blend, dotSparse, SparseMatrix, type SparseVec } from './sparse.ts';
import { agentTexts } from './texts.ts';
import type { AgentIndex, AgentIndexOptions, AgentSpec, ClassifyResult, QueryVectors, ScoreWeights, Taxonomy } from './types.ts';

// Chosen on CLINC150 val/test runs: kNN adds nothing over the head there and costs most of the decision time.
const DEFAULT_WEIGHTS: ScoreWeights = { head: 0.85, knn: 0, centroid: 0.15 };
const DEFAULT_HEAD = { epochs: 10, learningRate: 2 };
// Beside the semantic expert the lexical one needs fewer epochs (CLINC150 with USE: 93.6-93.9% from 3 to 16 epochs once the
// experts are combined) and a third of the build time.
const SEMANTIC_HEAD = { epochs: 4, learningRate: 1.5 };
// The joint head over the fused features (lexical ‖ semantic), a reranker of the experts' top candidates; each
// epoch costs (nnz + dim) × candidates per sample.
const JOINT_HEAD = { epochs: 6, learningRate: 1.5 };
const JOINT_CANDIDATES = 16;
// Cards with examples (CLINC150: 100 texts per agent) or with descriptions only (SGD: 3-4). Below this many card
// texts per agent the joint head over ~33,000 features fits them too closely (the experts' product, whose semantic
// scale is fitted on held-out rows, does better), and the lexical pass scores every agent too low to reject on: SGD
// dev, where every turn is in scope, lost 1.3 points with fast-reject at 0.1 (24.5% of its turns rejected early).
const MIN_TEXTS_PER_AGENT = 10;
const FAST_REJECT = 0.1;
// The lexical × static product's score from which it answers without the full encoder: on CLINC150 test questions,
// at 0.8 the same in-scope accuracy over 30 intents × 20 examples and 0.1 point less over the whole registry, with
// 8 and 2 points more of them answered without the encoder (docs/agent-routing.md).
const STATIC_PATH = 0.8;

export interface Category {
  id: string;
  members: number[];
  /** Encoded description + examples of a taxonomy category; null for bottom-up clusters. */
  text: SparseVec | null;
}

/**
 * Everything a fitted index holds, so an instance can load it instead of refitting (index-file.ts writes and
 * reads it). Vectors are the fused (lexical ‖ semantic) ones; the head reads only the lexical part when a semantic
 * expert exists.
 */
export interface AgentIndexState {
  agentIds: string[];
  lexical: HashingEncoderState;
  /** The semantic encoder the index was fitted with and its share α. */
  semantic?: { id: string; dim: number; weight: number };
  /** Softmax weights in compact form (`rows`: the features stored; absent in older files, where `w` has every row). */
  head?: { dim: number; w: Float32Array; b: Float32Array; rows?: Uint32Array };
  lda?: LdaState;
  /** The static expert (`staticSemantic`): its encoder and an LDA over its vectors of the card texts. */
  static?: { id: string; dim: number; lda: LdaState };
  /** Softmax over the fused vector (lexical ‖ semantic, the latter a dense block from `denseFrom`) reranking the experts' top `candidates` agents. */
  joint?: { dim: number; denseFrom: number; candidates: number; w: Float32Array; b: Float32Array; rows?: Uint32Array };
  centroids: SparseVec[];
  /** Example vectors and their agents: kept only when the kNN signal is on. */
  samples?: { vecs: SparseVec[]; agent: number[] };
  /** Semantic vectors of the card texts (rows × semantic dim, grouped by agent in order): only with semanticSupport. */
  support?: { vecs: Float32Array; agent: Uint32Array };
  categories: Category[];
  /** Card texts the fit saw (absent in files written before it was recorded: fast-reject then stays off by default). */
  texts?: number;
}

/**
 * Builds the hybrid category index: top-down categories from the taxonomy (and AgentSpec.category), bottom-up
 * clusters of the remaining agents' skill texts, and an agent scorer (softmax head + kNN + centroid) fitted only on
 * the cards and the taxonomy given.
 */
export function buildAgentIndex(agents: readonly AgentSpec[], taxonomy?: Taxonomy, options: AgentIndexOptions = {}): AgentIndex {
  return agentIndexFromState(fitAgentIndex(agents, taxonomy, options), agents, options);
}

/** Each taxonomy category's text (description and examples; '' when it has none), in the taxonomy's order. */
function taxonomyTexts(taxonomy: Taxonomy | undefined): string[] {
  return (taxonomy?.categories ?? []).map((c) => [c.description, ...(c.examples ?? [])].filter((t) => t.trim()).join('. '));
}

/** Every text a fit encodes (card texts, then taxonomy descriptions), for an encoder that must embed them first. */
export function indexTexts(agents: readonly AgentSpec[], taxonomy?: Taxonomy): string[] {
  return [...new Set([...agents.flatMap((a) => agentTexts(a.card)), ...taxonomyTexts(taxonomy).filter((t) => t)])];
}

/**
 * The options a fit depends on: `options` without the ones only the serving index reads (thresholds, the fast
 * path, context weights, the shift detector, how queries get their vectors) or the encoder object itself (its id is
 * recorded in the state; the static encoder's id stands in for it). Two option sets with the same fit options give
 * the same state, so a saved fit can be served under different serving options.
 */
export function fitOptions(options: AgentIndexOptions): Record<string, unknown> {
  const {
    semantic: _semantic, staticSemantic: _static, staticPath: _staticPath, semanticAtQuery: _atQuery, shift: _shift, shiftContextCutoff: _cutoff, threshold: _threshold,
    topKCategories: _topK, contextWeight: _cw, contextTurns: _ct, headTemperature: _temp, fastPath: _fast, fastReject: _reject, knnK: _k,
    ...fit
  } = options;
  return { ...fit, ...(options.staticSemantic ? { staticSemantic: options.staticSemantic.id } : {}) };
}

/** Fits the index's state (the slow part: seconds for 150 agents). */
export function fitAgentIndex(agents: readonly AgentSpec[], taxonomy?: Taxonomy, options: AgentIndexOptions = {}): AgentIndexState {
  const ids = new Set<string>();
  for (const a of agents) {
    if (ids.has(a.id)) throw new InvalidInputError(`duplicate agent id "${a.id}"`, 'agents');
    ids.add(a.id);
  }
  const texts = agents.map((a) => agentTexts(a.card));
  const taxTexts = taxonomyTexts(taxonomy);
  const lexicalState = HashingEncoder.fit([...texts.flat(), ...taxTexts], { dim: options.dim ?? 1 << 15 }).state;
  const f = fusion(lexicalState, options);
  // each sample's fused vector (kNN, centroids) and its two parts (the experts' inputs), encoded once
  const sampleVecs: SparseVec[] = [];
  const sampleLex: SparseVec[] = [];
  const sampleDense: Float32Array[] = [];
  const sampleAgent: number[] = [];
  const centroids: SparseVec[] = [];
  texts.forEach((ts, a) => {
    const vs = ts.map((t) => {
      const { lex, dense } = f.parts(t);
      sampleLex.push(lex);
      if (dense) sampleDense.push(dense);
      return f.fuse(lex, dense);
    });
    for (const v of vs) {
      sampleVecs.push(v);
      sampleAgent.push(a);
    }
    centroids.push(blend(vs.map((vec) => ({ vec, weight: 1 }))));
  });
  const fitHead = options.head !== false && agents.length >= 2;
  const sem = f.semantic;
  // With a semantic encoder the head is two experts: SGD softmax on the lexical part, closed-form LDA on the
  // semantic part. SGD over 512 dense features × every agent took minutes; and the lexical expert alone can answer
  // the easy queries without the semantic encoder (the fast path).
  const head = fitHead
    ? SoftmaxHead.fit(sem ? sampleLex : sampleVecs, sampleAgent, sem ? f.lexDim : f.dim, agents.length, { ...(sem ? SEMANTIC_HEAD : DEFAULT_HEAD), ...options.head })
    : null;
  const lda = fitHead && sem ? Lda.fit(sampleDense, sampleAgent, agents.length, options.lda) : null;
  const staticEnc = sem ? options.staticSemantic : undefined;
  // like the joint head, only over cards with examples: over 3-4 texts per agent its LDA is sure and often wrong
  const staticLda = lda && staticEnc && sampleAgent.length >= MIN_TEXTS_PER_AGENT * agents.length ? Lda.fit(packedVectors(texts.flat(), staticEnc), sampleAgent, agents.length, options.lda) : null;
  // The joint head reranks the experts' top candidates: trained against each card text's top JOINT_CANDIDATES
  // classes under the experts' product (its hardest negatives), at a fraction of a full softmax's cost per sample.
  let joint: SoftmaxHead | null = null;
  if (options.jointCandidates !== undefined && !(Number.isInteger(options.jointCandidates) && options.jointCandidates >= 1)) {
    throw new InvalidInputError(`jointCandidates must be an integer ≥ 1, got ${options.jointCandidates}`, 'jointCandidates');
  }
  const jointK = Math.min(agents.length, options.jointCandidates ?? JOINT_CANDIDATES);
  const jointOn = options.jointHead === undefined ? sampleAgent.length >= MIN_TEXTS_PER_AGENT * agents.length : options.jointHead !== false;
  if (head && lda && sem && jointOn) {
    const cands = sampleLex.map((lex, n) => expertsTop(head, lda, lex, sampleDense[n]!, sem.weight, jointK));
    joint = SoftmaxHead.fit(sampleVecs, sampleAgent, f.dim, agents.length, { ...JOINT_HEAD, ...options.jointHead, denseFrom: f.lexDim, candidates: (n) => cands[n]! });
  }
  const categories = buildCategories(agents, taxonomy, taxTexts.map((t) => (t ? f.encode(t) : null)), centroids, f.dim, options.clusters);
  const knnOn = (options.weights?.knn ?? DEFAULT_WEIGHTS.knn) > 0;
  let support: AgentIndexState['support'];
  if (sem && options.semanticSupport) {
    const vecs = new Float32Array(sampleDense.length * sem.dim);
    sampleDense.forEach((v, i) => vecs.set(v, i * sem.dim));
    support = { vecs, agent: Uint32Array.from(sampleAgent) };
  }
  return {
    agentIds: agents.map((a) => a.id),
    lexical: lexicalState,
    ...(sem ? { semantic: sem } : {}),
    ...(head ? { head: { dim: head.dim, ...head.weights() } } : {}),
    ...(lda ? { lda: lda.state } : {}),
    ...(staticLda && staticEnc ? { static: { id: staticEnc.id, dim: staticEnc.dim, lda: staticLda.state } } : {}),
    ...(joint ? { joint: { dim: joint.dim, denseFrom: joint.denseFrom, candidates: jointK, ...joint.weights() } } : {}),
    centroids,
    ...(knnOn ? { samples: { vecs: sampleVecs, agent: sampleAgent } } : {}),
    ...(support ? { support } : {}),
    categories,
    texts: sampleAgent.length,
  };
}

/** How texts become fused vectors for one index: the lexical encoder, then (when configured) the semantic one. */
function fusion(lexicalState: HashingEncoderState, options: AgentIndexOptions, recorded?: AgentIndexState['semantic']) {
  const lexicalEnc = new SparseHashingEncoder(lexicalState, `hashing:${lexicalState.dim}`);
  const lexDim = lexicalState.dim;
  const encoder = options.semantic;
  if (recorded && (!encoder || encoder.id !== recorded.id)) {
    throw new InvalidInputError(`the agent index was fitted with the semantic encoder "${recorded.id}"; load it with that encoder (got ${encoder ? `"${encoder.id}"` : 'none'})`, 'semantic');
  }
  const semantic = encoder ? (recorded ?? { id: encoder.id, dim: encoder.dim, weight: Math.min(0.95, Math.max(0.05, options.semanticWeight ?? 0.5)) }) : undefined;
  const a = Math.sqrt(1 - (semantic?.weight ?? 0));
  const b = Math.sqrt(semantic?.weight ?? 0);
  return {
    lexDim,
    dim: lexDim + (semantic?.dim ?? 0),
    semantic,
    lexical: (t: string): SparseVec => lexicalEnc.encodeSparse(t),
    /** Lexical and semantic parts side by side, weighted so the whole stays unit-length. */
    fuse: (lex: SparseVec, dense: Float32Array | null): SparseVec => (dense && semantic ? appendDense(lex, dense, lexDim, a, b) : lex),
    /** A text's two parts, each unit-length (dense null without a semantic encoder). */
    parts: (t: string): { lex: SparseVec; dense: Float32Array | null } => ({ lex: lexicalEnc.encodeSparse(t), dense: encoder && semantic ? encoder.encode(t) : null }),
    encode(t: string): SparseVec {
      const { lex, dense } = this.parts(t);
      return this.fuse(lex, dense);
    },
  };
}

/**
 * The serving index over a fitted state. `agents` must be the ones fitted, in order (ids are checked); with a
 * semantic state, `options.semantic` must be the same encoder.
 */
export function agentIndexFromState(state: AgentIndexState, agents: readonly AgentSpec[], options: AgentIndexOptions = {}): AgentIndex {
  if (state.agentIds.length !== agents.length || state.agentIds.some((id, i) => agents[i]!.id !== id)) {
    throw new InvalidInputError('the agent index was fitted for other agents: refit it', 'agents');
  }
  const f = fusion(state.lexical, options, state.semantic);
  const sem = f.semantic;
  const dim = f.dim;
  // served compact (a file written before `rows` was recorded is compacted here)
  const head = state.head ? new SoftmaxHead(state.head.dim, agents.length, state.head.w, state.head.b, state.head.dim, state.head.rows).compact() : null;
  const lda = state.lda ? new Lda(state.lda) : null;
  // the static expert serves only with its own encoder; without one (or another) the index skips that path
  const staticEnc = state.static && options.staticSemantic?.id === state.static.id ? options.staticSemantic : undefined;
  const staticLda = staticEnc && state.static ? new Lda(state.static.lda) : null;
  const staticAt = options.staticPath ?? STATIC_PATH;
  const joint = state.joint ? new SoftmaxHead(state.joint.dim, agents.length, state.joint.w, state.joint.b, state.joint.denseFrom, state.joint.rows).compact() : null;
  const jointK = Math.min(agents.length, state.joint?.candidates ?? JOINT_CANDIDATES);
  const sampleVecs = state.samples?.vecs ?? [];
  const sampleAgent = state.samples?.agent ?? [];
  const samples = new SparseMatrix(sampleVecs, dim);
  const centroidMatrix = new SparseMatrix(state.centroids, dim);
  const categories = state.categories;

  const w0 = { ...DEFAULT_WEIGHTS, ...(head ? {} : { head: 0 }), ...options.weights };
  if (!state.samples) w0.knn = 0;
  const wsum = w0.head + w0.knn + w0.centroid || 1;
  const w: ScoreWeights = { head: w0.head / wsum, knn: w0.knn / wsum, centroid: w0.centroid / wsum };
  const knnK = options.knnK ?? 3;
  // The experts' product is sharper than the lexical head alone, so its scores need a higher bar: 0.53 is what
  // calibrateThreshold picks on CLINC150 val for it, as 0.35 is near what it picks for the lexical index.
  const threshold = options.threshold ?? (sem ? 0.53 : 0.35);
  const defaultTopK = options.topKCategories ?? 3;
  const ctxWeight = options.contextWeight ?? 0.35;
  const ctxTurns = options.contextTurns ?? 2;
  const temperature = options.headTemperature ?? 1;
  const shiftCutoff = options.shiftContextCutoff ?? 0.5;
  // CLINC150 test: at 0.7 two thirds of the queries skip the semantic encoder, at no loss of accuracy
  const fastAt = options.fastPath ?? 0.7;
  if (options.fastReject !== undefined && !(options.fastReject >= 0 && options.fastReject < 1)) {
    throw new InvalidInputError(`fastReject must be in [0, 1), got ${options.fastReject}`, 'fastReject');
  }
  // by default only over cards with examples; never above the threshold (a query it would accept is not rejected early)
  const richCards = state.texts !== undefined && state.texts >= MIN_TEXTS_PER_AGENT * agents.length;
  const rejectBelow = Math.min(options.fastReject ?? (richCards ? FAST_REJECT : 0), threshold);
  // rows of each agent's card texts in state.support (grouped by agent in order)
  const supportRows: Array<[number, number]> = agents.map(() => [0, 0]);
  if (state.support && sem) {
    const ag = state.support.agent;
    for (let r = 0; r < ag.length; r++) {
      const range = supportRows[ag[r]!]!;
      if (range[1] === 0) range[0] = r;
      range[1] = r + 1;
    }
  }
  /** Cosine of the semantic query to the agent's nearest card text. */
  function supportOf(agent: number, denseQ: Float32Array): number {
    const vecs = state.support!.vecs;
    const d = sem!.dim;
    const [from, to] = supportRows[agent]!;
    let best = -1;
    for (let r = from; r < to; r++) {
      let s = 0;
      const o = r * d;
      for (let i = 0; i < d; i++) s += vecs[o + i]! * denseQ[i]!;
      if (s > best) best = s;
    }
    return best;
  }

  const agentPos = new Map(agents.map((a, i) => [a.id, i]));
  const sampleScores = new Float32Array(sampleVecs.length);
  const centScores = new Float32Array(agents.length);
  const probs = new Float32Array(agents.length);
  const ldaProbs = new Float32Array(agents.length);
  const staticProbs = new Float32Array(agents.length);
  const top = new Float32Array(knnK);

  /**
   * Scores from the vectors; `dense` null = the lexical expert alone (centroids then use only their lexical part);
   * `staticDense` = the lexical expert with the static one, right after the lexical pass over the same vector: its
   * head probabilities and centroid and sample scores are still in their buffers and are not computed again.
   */
  function scoreAgents(q: SparseVec, lexQ: SparseVec, dense: Float32Array | null, staticDense: Float32Array | null = null): Float64Array {
    const out = new Float64Array(agents.length);
    if (!staticDense) {
      if (w.knn > 0) samples.scores(q, sampleScores);
      centroidMatrix.scores(q, centScores);
      if (head) headProbs(head, lexQ, probs, temperature);
    }
    if (lda && dense) {
      lda.probsInto(dense, ldaProbs);
      mixExperts(probs, ldaProbs, sem!.weight);
      // the joint head reranks the product's top candidates (the others keep no probability)
      if (joint) joint.probsOver(q, topIndices(probs, jointK), probs);
    } else if (staticLda && staticDense && head) {
      staticLda.probsInto(staticDense, staticProbs);
      mixExperts(probs, staticProbs, sem!.weight);
    }
    // lexical-only centroid scores carry only the lexical share of the cosine: rescale them to the full range
    const centScale = sem && !dense ? 1 / (1 - sem.weight) : 1;
    // samples are grouped by agent in order, so one pass keeps a running top-k per agent
    let s = 0;
    for (let a = 0; a < agents.length; a++) {
      top.fill(-1);
      let n = 0;
      for (; w.knn > 0 && s < sampleAgent.length && sampleAgent[s] === a; s++, n++) {
        const v = sampleScores[s]! * centScale;
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
      out[a] = w.head * (head ? probs[a]! : 0) + w.knn * Math.max(0, knn) + w.centroid * Math.max(0, Math.min(1, centScores[a]! * centScale));
    }
    return out;
  }

  /**
   * The turn's lexical vector blended with its recent context (later turns weigh more); `turns` says which message
   * each part came from (-1 = the turn itself, else its index in `context`) and its weight, for the semantic blend.
   */
  function lexicalQuery(text: string, context: ReadonlyArray<{ role: string; content: string }> | undefined) {
    const parts = [{ vec: f.lexical(text), weight: 1, at: -1 }];
    if (context && ctxWeight > 0) {
      const recent = context.map((m, at) => ({ m, at })).filter(({ m }) => m.content.trim()).slice(-ctxTurns);
      recent.forEach(({ m, at }, i) => parts.push({ vec: f.lexical(m.content), weight: ctxWeight * 0.6 ** (recent.length - 1 - i), at }));
    }
    return { lexQ: parts.length === 1 ? parts[0]!.vec : blend(parts), turns: parts.map(({ weight, at }) => ({ weight, at })) };
  }

  /** The same blend over the semantic vectors the caller (or the encoder) gave. */
  function denseQuery(turns: ReadonlyArray<{ weight: number; at: number }>, given: QueryVectors, dim: number): Float32Array {
    const out = new Float32Array(dim);
    for (const { weight, at } of turns) {
      const v = at < 0 ? given.text : given.context?.[at];
      if (v) for (let i = 0; i < dim; i++) out[i]! += weight * v[i]!;
    }
    normalize(out);
    return out;
  }

  /** The static encoder's vector of the turn blended with its context turns, as the semantic query is. */
  function staticQuery(text: string, turns: ReadonlyArray<{ weight: number; at: number }>, context: ReadonlyArray<{ role: string; content: string }> | undefined): Float32Array {
    const enc = staticEnc!;
    return denseQuery(turns, { text: enc.encode(text), ...(context ? { context: context.map((m) => (m.content.trim() ? enc.encode(m.content) : new Float32Array(enc.dim))) } : {}) }, enc.dim);
  }

  /** Scores of the turn without its context, by the experts the blended scores came from (`path`). */
  function scoreTurnAlone(text: string, path: NonNullable<ClassifyResult['path']> | 'lexical', given: QueryVectors | null): Float64Array {
    const { lexQ, turns } = lexicalQuery(text, undefined);
    if (path === 'static' && staticEnc) {
      scoreAgents(lexQ, lexQ, null); // the static pass reads the lexical pass's buffers
      return scoreAgents(lexQ, lexQ, null, staticQuery(text, turns, undefined));
    }
    const dense = path === 'semantic' && given && sem ? denseQuery(turns, { text: given.text }, sem.dim) : null;
    return scoreAgents(f.fuse(lexQ, dense), lexQ, dense);
  }

  function vectorsFor(text: string, context: ReadonlyArray<{ role: string; content: string }> | undefined): QueryVectors | null {
    const enc = options.semantic;
    if (!sem || !enc || options.semanticAtQuery) return null;
    return { text: enc.encode(text), context: context?.map((m) => (m.content.trim() ? enc.encode(m.content) : new Float32Array(sem.dim))) };
  }

  return {
    size: agents.length,
    ...(sem ? { semantic: sem.id, jointReranker: joint !== null } : {}),
    classify(text, context, topK, vectors): ClassifyResult {
      if (typeof text !== 'string' || !text.trim()) throw new InvalidInputError('query text is empty', 'text');
      const k = Math.max(1, topK && topK > 0 ? topK : defaultTopK);
      const lastSystem = context ? ([...context].reverse().find((m) => m.role !== 'user')?.content ?? '') : '';
      const shift = options.shift ? options.shift.score(text, lastSystem) : undefined;
      // a turn that starts a new task is scored on its own: the earlier turns belong to the previous task
      const ctx = shift !== undefined && shift >= shiftCutoff ? undefined : context;
      let path: NonNullable<ClassifyResult['path']> | 'lexical' = sem ? 'semantic' : 'lexical';
      let given = vectors ?? null;
      const { lexQ, turns } = lexicalQuery(text, ctx);
      let q: SparseVec = lexQ;
      let denseQ: Float32Array | null = null;
      let scores: Float64Array | undefined;
      if (sem && !given) {
        // the fast path: the lexical expert alone, kept when it is sure
        scores = scoreAgents(lexQ, lexQ, null);
        if (maxOf(probs) >= fastAt) path = 'fast';
        else if (rejectBelow > 0 && maxOf(scores) < rejectBelow) path = 'fast-reject';
        else {
          // the static expert next, when the index has one: kept when the product is sure
          const withStatic = staticEnc ? scoreAgents(lexQ, lexQ, null, staticQuery(text, turns, ctx)) : null; // reuses the lexical pass's buffers
          if (withStatic && maxOf(withStatic) >= staticAt) {
            scores = withStatic;
            path = 'static';
          } else {
            given = vectorsFor(text, ctx);
            if (!given) path = 'needs-semantic';
          }
        }
      }
      if (path === 'semantic' || path === 'lexical') {
        denseQ = given && sem ? denseQuery(turns, given, sem.dim) : null;
        q = f.fuse(lexQ, denseQ);
        scores = scoreAgents(q, lexQ, denseQ);
      }
      const agentScores = scores!;
      const catScores = categories.map((c) => {
        let best = 0;
        for (const m of c.members) best = Math.max(best, agentScores[m]!);
        // a taxonomy description can lift a category a little, but agents' evidence dominates
        return best + (c.text ? 0.1 * Math.max(0, dotSparse(c.text, q)) : 0);
      });
      const order = categories.map((_, i) => i).sort((a, b) => catScores[b]! - catScores[a]!);
      const chosen = order.slice(0, k).filter((ci) => categories[ci]!.members.length > 0 || catScores[ci]! > 0);
      const viaCat = new Map<number, number>();
      for (const ci of chosen) for (const m of categories[ci]!.members) if (!viaCat.has(m)) viaCat.set(m, ci);
      // the turn's own evidence, when context was blended in: the same experts over the turn alone
      const turnScores = turns.length > 1 && path !== 'needs-semantic' ? scoreTurnAlone(text, path, given) : null;
      if (turnScores) {
        let own = 0;
        for (let a = 1; a < agents.length; a++) if (turnScores[a]! > turnScores[own]!) own = a;
        if (!viaCat.has(own)) {
          const ci = categories.findIndex((c) => c.members.includes(own));
          if (ci >= 0) viaCat.set(own, ci);
        }
      }
      const candidates = [...viaCat.entries()]
        .map(([a, ci]) => ({ agentId: agents[a]!.id, score: round(agentScores[a]!), category: categories[ci]!.id, ...(turnScores ? { turnScore: round(turnScores[a]!) } : {}) }))
        .sort((x, y) => y.score - x.score);
      const best = candidates[0]?.score ?? 0;
      const topAgent = candidates[0] ? agentPos.get(candidates[0].agentId) : undefined;
      const support = state.support && denseQ && topAgent !== undefined ? round(supportOf(topAgent, denseQ)) : undefined;
      return {
        ...(shift !== undefined ? { shift: round(shift) } : {}),
        categories: chosen.map((ci) => ({ category: categories[ci]!.id, score: round(catScores[ci]!) })),
        candidates,
        inScope: candidates.length > 0 && best >= threshold,
        threshold,
        ...(path !== 'lexical' ? { path } : {}),
        ...(support !== undefined ? { support } : {}),
      };
    },
  };
}

/**
 * Each text's vector as a row of one matrix: thousands of separate 2 KB arrays each take their own allocation, and
 * the process keeps the fragmented heap they leave after the fit (intent, 150 agents with the static path:
 * 206 → 199–200 MB resident, with the table read in place).
 */
function packedVectors(texts: readonly string[], enc: Encoder): Float32Array[] {
  const m = new Float32Array(texts.length * enc.dim);
  return texts.map((t, i) => {
    const row = m.subarray(i * enc.dim, (i + 1) * enc.dim);
    row.set(enc.encode(t));
    return row;
  });
}

/** Indices of the k largest values of v, largest first (ties: lower index first); one pass with a sorted buffer. */
function topIndices(v: Float32Array, k: number): Uint32Array {
  k = Math.min(k, v.length);
  const idx = new Uint32Array(k);
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (n === k && x <= v[idx[k - 1]!]!) continue;
    let j = n < k ? n++ : k - 1;
    while (j > 0 && v[idx[j - 1]!]! < x) {
      idx[j] = idx[j - 1]!;
      j--;
    }
    idx[j] = i;
  }
  return idx;
}

/** The experts' product's top k agents for one card text (the joint head's training candidates). */
function expertsTop(head: SoftmaxHead, lda: Lda, lex: SparseVec, dense: Float32Array, alpha: number, k: number): Uint32Array {
  const p = head.probsInto(lex, new Float32Array(head.classes));
  mixExperts(p, lda.probsInto(dense, new Float32Array(head.classes)), alpha);
  return topIndices(p, k);
}

function maxOf(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) if (v[i]! > m) m = v[i]!;
  return m;
}

function normalize(v: Float32Array): void {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
}

/** Product of the two experts, α on the semantic one: p ∝ lex^(1-α) · sem^α (written into lex). */
function mixExperts(lex: Float32Array, sem: Float32Array, alpha: number): void {
  let sum = 0;
  for (let i = 0; i < lex.length; i++) {
    const v = Math.exp((1 - alpha) * Math.log(lex[i]! + 1e-12) + alpha * Math.log(sem[i]! + 1e-12));
    lex[i] = v;
    sum += v;
  }
  for (let i = 0; i < lex.length; i++) lex[i]! /= sum;
}

function appendDense(lex: SparseVec, dense: Float32Array, offset: number, a: number, b: number): SparseVec {
  const n = lex.idx.length;
  const idx = new Uint32Array(n + dense.length);
  const val = new Float32Array(n + dense.length);
  for (let i = 0; i < n; i++) {
    idx[i] = lex.idx[i]!;
    val[i] = a * lex.val[i]!;
  }
  for (let i = 0; i < dense.length; i++) {
    idx[n + i] = offset + i;
    val[n + i] = b * dense[i]!;
  }
  return { idx, val };
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
