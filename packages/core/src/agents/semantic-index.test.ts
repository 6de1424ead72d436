import { describe, expect, it } from 'vitest';
import { HashingEncoder, LookupEncoder, type Encoder } from '../encoder/index.ts';
import { InvalidInputError } from '../errors.ts';
import { agentIndexFromState, buildAgentIndex, fitAgentIndex, fitOptions, indexTexts } from './agent-index.ts';
import mini from './fixtures/clinc-mini.json' with { type: 'json' };
import { decodeAgentIndex, encodeAgentIndex, savedIndexKey } from './index-file.ts';
import { agentTexts } from './texts.ts';
import type { AgentSpec, Taxonomy } from './types.ts';

interface Row {
  text: string;
  intent: string;
  domain: string | null;
}
const data = mini as unknown as { train: Row[]; val: Row[]; test: Row[] };
const intents = [...new Set(data.train.map((r) => r.intent))];
const agents: AgentSpec[] = intents.map((id) => ({
  id,
  tenants: [],
  healthy: true,
  card: { name: id, description: '', url: `http://x/${id}`, version: '1', skills: [{ id, name: id, description: '', tags: [], examples: data.train.filter((r) => r.intent === id).map((r) => r.text) }] },
}));
const domainOf = new Map(data.train.map((r) => [r.intent, r.domain!]));
const taxonomy: Taxonomy = {
  categories: [...new Set(domainOf.values())].map((d) => ({ id: d, description: d.replace(/_/g, ' '), agentIds: intents.filter((i) => domainOf.get(i) === d) })),
};
// A deterministic stand-in for the sentence encoder: dense word-only TF-IDF, a different view from the index's own
// word + character n-grams (what matters here is the mechanics, not the semantics).
const words = HashingEncoder.fit(data.train.map((r) => r.text), { dim: 256, wordNgrams: 1, charNgrams: [0, 0] });
const semantic: Encoder = { id: 'test-words-256', dim: 256, encode: (t) => words.encode(t) };
const test = data.test.filter((r) => r.intent !== 'oos');
const top = (r: { candidates: Array<{ agentId: string }> }) => r.candidates[0]?.agentId;

describe('semantic agent index', () => {
  const state = fitAgentIndex(agents, taxonomy, { semantic });
  const index = agentIndexFromState(state, agents, { semantic });
  const always = agentIndexFromState(state, agents, { semantic, fastPath: 2 });

  it('semantic agent index - classifies held-out utterances with both experts and says which path answered', () => {
    const results = test.map((r) => index.classify(r.text));
    const right = results.filter((c, i) => top(c) === test[i]!.intent).length;
    // the stand-in is a weak second expert (words only); the real encoder's figures are in docs/agent-routing.md
    expect(right / test.length).toBeGreaterThanOrEqual(0.75);
    const paths = new Set(results.map((c) => c.path));
    expect(paths).toEqual(new Set(['fast', 'semantic']));
    expect(test.every((r) => always.classify(r.text).path === 'semantic')).toBe(true);
    expect(index.semantic).toBe('test-words-256');
  });

  it('semantic agent index - the fast path picks the agent the full scorer picks on the queries it answers', () => {
    const fast = test.filter((r) => index.classify(r.text).path === 'fast');
    expect(fast.length).toBeGreaterThan(0);
    const same = fast.filter((r) => top(index.classify(r.text)) === top(always.classify(r.text))).length;
    expect(same / fast.length).toBeGreaterThanOrEqual(0.95);
  });

  it('semantic agent index - fast-reject: a query no agent resembles even lexically is out of scope without the encoder', () => {
    const calls: string[] = [];
    const counting: Encoder = { ...semantic, encode: (t) => (calls.push(t), semantic.encode(t)) };
    const s = fitAgentIndex(agents, taxonomy, { semantic: counting });
    const cut = 0.2;
    const rejecting = agentIndexFromState(s, agents, { semantic: counting, fastReject: cut });
    const never = agentIndexFromState(s, agents, { semantic: counting, fastReject: 0 });
    const oos = data.test.filter((r) => r.intent === 'oos');
    const rejected = oos.filter((r) => rejecting.classify(r.text).path === 'fast-reject');
    expect(rejected.length).toBeGreaterThan(0);
    calls.length = 0;
    for (const r of rejected) {
      const c = rejecting.classify(r.text);
      expect(c.inScope).toBe(false);
      expect(c.candidates[0]?.score ?? 0).toBeLessThan(cut);
    }
    expect(calls).toEqual([]);
    // turned off, the same queries pay the encoder
    for (const r of rejected) expect(never.classify(r.text).path).not.toBe('fast-reject');
    expect(calls.length).toBeGreaterThan(0);
    expect(() => agentIndexFromState(s, agents, { semantic, fastReject: 1 })).toThrow(/fastReject must be in \[0, 1\)/);
    // by default it is on over cards with examples (≥ 10 texts per agent) and off over description-only cards
    // (with 8 agents the head alone never scores below 1/8 × 0.85: half-weight centroids let gibberish score under 0.1)
    const weights = { head: 0.5, knn: 0, centroid: 0.5 };
    const byDefault = agentIndexFromState(s, agents, { semantic, weights });
    const at01 = agentIndexFromState(s, agents, { semantic, weights, fastReject: 0.1 });
    const probes = [...data.test.map((r) => r.text), 'zzqx vrrp wlkj'];
    expect(probes.map((t) => byDefault.classify(t).path)).toEqual(probes.map((t) => at01.classify(t).path));
    expect(byDefault.classify('zzqx vrrp wlkj').path).toBe('fast-reject');
    expect(agentIndexFromState({ ...s, texts: 3 * agents.length }, agents, { semantic, weights }).classify('zzqx vrrp wlkj').path).not.toBe('fast-reject');
    const few = agents.map((a) => ({ ...a, card: { ...a.card, skills: a.card.skills.map((k) => ({ ...k, examples: k.examples.slice(0, 3) })) } }));
    const sparse = buildAgentIndex(few, taxonomy, { semantic });
    expect(oos.some((r) => sparse.classify(r.text).path === 'fast-reject')).toBe(false);
    expect(oos.some((r) => buildAgentIndex(few, taxonomy, { semantic, fastReject: 0.5 }).classify(r.text).path === 'fast-reject')).toBe(true);
  });

  it('semantic agent index - vectors supplied by the caller give the same answer as the index encoding them itself', () => {
    const table = new Map([...indexTexts(agents, taxonomy)].map((t) => [t, semantic.encode(t)]));
    const lookup = new LookupEncoder(semantic.id, semantic.dim, table);
    const caller = buildAgentIndex(agents, taxonomy, { semantic: lookup, semanticAtQuery: true, fastPath: 2 });
    for (const r of test.slice(0, 20)) {
      const context = [{ role: 'user', content: data.train[0]!.text }];
      expect(caller.classify(r.text, context).path).toBe('needs-semantic');
      const given = caller.classify(r.text, context, undefined, { text: semantic.encode(r.text), context: context.map((m) => semantic.encode(m.content)) });
      expect(given).toEqual(always.classify(r.text, context));
    }
    expect(() => lookup.encode('a text nobody embedded')).toThrow(InvalidInputError);
  });

  it('semantic agent index - the static expert answers, before the full encoder, the queries its product with the lexical one is sure of', () => {
    // a second cheap stand-in in its own space: character trigrams, dense
    const chars = HashingEncoder.fit(data.train.map((r) => r.text), { dim: 128, wordNgrams: 0, charNgrams: [3, 3] });
    const staticSemantic: Encoder = { id: 'test-chars-128', dim: 128, encode: (t) => chars.encode(t) };
    const calls: string[] = [];
    const counting: Encoder = { ...semantic, encode: (t) => (calls.push(t), semantic.encode(t)) };
    const s = fitAgentIndex(agents, taxonomy, { semantic: counting, staticSemantic });
    expect(s.static).toMatchObject({ id: 'test-chars-128', dim: 128 });
    const withStatic = agentIndexFromState(s, agents, { semantic: counting, staticSemantic, staticPath: 0.5 });
    const full = agentIndexFromState(s, agents, { semantic: counting, fastPath: 2, fastReject: 0 });
    const queries = data.test.map((r) => r.text);
    calls.length = 0;
    const staticAnswers = queries.filter((q) => withStatic.classify(q).path === 'static');
    expect(staticAnswers.length).toBeGreaterThan(0);
    // the full encoder was asked only for the queries that went on to the semantic path
    expect(calls.length).toBe(queries.filter((q) => withStatic.classify(q).path === 'semantic').length);
    const same = staticAnswers.filter((q) => top(withStatic.classify(q)) === top(full.classify(q))).length;
    expect(same / staticAnswers.length).toBeGreaterThanOrEqual(0.8);
    for (const q of staticAnswers) {
      const c = withStatic.classify(q);
      expect(c.candidates[0]!.score).toBeGreaterThanOrEqual(0.5);
      expect(c.inScope).toBe(c.candidates[0]!.score >= c.threshold);
    }
    // above 1 it never answers; served without its encoder (or with another) the index skips that path
    const never = agentIndexFromState(s, agents, { semantic, staticSemantic, staticPath: 2 });
    const without = agentIndexFromState(s, agents, { semantic });
    const other = agentIndexFromState(s, agents, { semantic, staticSemantic: { ...staticSemantic, id: 'another' }, staticPath: 0.5 });
    for (const q of queries) {
      expect(never.classify(q).path).not.toBe('static');
      expect(without.classify(q).path).not.toBe('static');
      expect(other.classify(q)).toEqual(without.classify(q));
    }
    // the file keeps it; over few texts per agent it is not fitted; its id is a fit option
    const back = agentIndexFromState(decodeAgentIndex(encodeAgentIndex(s, 'k')).state, agents, { semantic, staticSemantic, staticPath: 0.5 });
    for (const q of queries.slice(0, 20)) expect(back.classify(q)).toEqual(agentIndexFromState(s, agents, { semantic, staticSemantic, staticPath: 0.5 }).classify(q));
    const few = agents.map((a) => ({ ...a, card: { ...a.card, skills: a.card.skills.map((k) => ({ ...k, examples: k.examples.slice(0, 3) })) } }));
    expect(fitAgentIndex(few, taxonomy, { semantic, staticSemantic }).static).toBeUndefined();
    expect(fitOptions({ semantic, staticSemantic, staticPath: 0.5, threshold: 0.4 })).toEqual({ staticSemantic: 'test-chars-128' });
  });

  it('semantic agent index - semanticSupport reports the semantic cosine to the best agent\'s nearest card text on the semantic path only', () => {
    const sup = fitAgentIndex(agents, taxonomy, { semantic, semanticSupport: true });
    const withSupport = agentIndexFromState(sup, agents, { semantic, semanticSupport: true });
    const forced = agentIndexFromState(sup, agents, { semantic, fastPath: 2 });
    expect(sup.support!.vecs.length).toBe(sup.support!.agent.length * semantic.dim);
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    for (const r of data.test.slice(0, 12)) {
      const c = forced.classify(r.text);
      // the same decision as without support, plus the field
      const { support, ...rest } = c;
      expect(rest).toEqual(always.classify(r.text));
      const card = agents.find((a) => a.id === c.candidates[0]!.agentId)!;
      const nearest = Math.max(...agentTexts(card.card).map((e) => dot(semantic.encode(e), semantic.encode(r.text))));
      expect(support).toBeCloseTo(nearest, 4);
      const f = withSupport.classify(r.text);
      expect(f.support === undefined).toBe(f.path === 'fast');
    }
    // without the option the field never appears; a saved fit keeps the support vectors
    expect(test.every((r) => always.classify(r.text).support === undefined)).toBe(true);
    const back = agentIndexFromState(decodeAgentIndex(encodeAgentIndex(sup, 'k')).state, agents, { semantic, fastPath: 2 });
    for (const r of data.test.slice(0, 5)) expect(back.classify(r.text)).toEqual(forced.classify(r.text));
  });

  it('semantic agent index - the joint head reranks the experts\' candidates: it changes answers, and only among them', () => {
    const k = 4;
    // scores = the head's probabilities alone, over every agent, so the candidates list is the head's ranking
    const serve = { semantic, fastPath: 2, weights: { head: 1, knn: 0, centroid: 0 }, topKCategories: 100 };
    const withJoint = agentIndexFromState(fitAgentIndex(agents, taxonomy, { semantic, jointCandidates: k }), agents, serve);
    const experts = agentIndexFromState(fitAgentIndex(agents, taxonomy, { semantic, jointHead: false }), agents, serve);
    expect(fitAgentIndex(agents, taxonomy, { semantic, jointHead: false }).joint).toBeUndefined();
    let changed = 0;
    for (const r of test) {
      const a = withJoint.classify(r.text);
      const e = experts.classify(r.text);
      if (top(a) !== top(e)) changed++;
      // the joint head answers among the experts' top k; every other agent gets no probability
      expect(a.candidates.slice(k).every((c) => c.score === 0)).toBe(true);
      const expertsTopK = new Set(e.candidates.slice(0, k).map((c) => c.agentId));
      expect(expertsTopK.has(top(a)!)).toBe(true);
    }
    expect(changed).toBeGreaterThan(0);
    const right = test.filter((r) => top(withJoint.classify(r.text)) === r.intent).length;
    expect(right / test.length).toBeGreaterThanOrEqual(0.75);
  });

  it('semantic agent index - the joint head is fitted by default only with ≥ 10 card texts per agent; asked for, always', () => {
    const few = agents.map((a) => ({ ...a, card: { ...a.card, skills: a.card.skills.map((k) => ({ ...k, examples: k.examples.slice(0, 3) })) } }));
    expect(fitAgentIndex(few, taxonomy, { semantic }).joint).toBeUndefined();
    expect(fitAgentIndex(few, taxonomy, { semantic, jointHead: {} }).joint).toBeDefined();
    expect(fitAgentIndex(agents, taxonomy, { semantic }).joint).toBeDefined();
    for (const bad of [0, -1, 2.5]) expect(() => fitAgentIndex(agents, taxonomy, { semantic, jointCandidates: bad })).toThrow(/jointCandidates must be an integer ≥ 1/);
  });

  it('semantic agent index - refuses a fit loaded with another encoder or for other agents', () => {
    expect(() => agentIndexFromState(state, agents, {})).toThrow(/fitted with the semantic encoder "test-words-256"/);
    expect(() => agentIndexFromState(state, agents, { semantic: { ...semantic, id: 'other' } })).toThrow(InvalidInputError);
    expect(() => agentIndexFromState(state, agents.slice(1), { semantic })).toThrow(/other agents/);
  });
});

describe('agent index file', () => {
  it('agent index file - a saved fit loads back into an index that answers exactly as the fitted one', () => {
    for (const semanticOpt of [{}, { semantic }]) {
      const state = fitAgentIndex(agents, taxonomy, semanticOpt);
      const bytes = encodeAgentIndex(state, 'key-1');
      // as read from disk: a Buffer (whose slice() is a view, not a copy) at an odd offset
      const copy = Buffer.alloc(bytes.byteLength + 3);
      copy.set(bytes, 3);
      const { key, state: back } = decodeAgentIndex(copy.subarray(3));
      expect(key).toBe('key-1');
      // with a semantic encoder the joint reranker is part of the fit, and of the file
      expect(back.joint?.candidates).toBe(semanticOpt.semantic ? state.joint!.candidates : undefined);
      // and the card-text count that turns fast-reject on
      expect(back.texts).toBe(state.texts);
      const a = agentIndexFromState(state, agents, semanticOpt);
      const b = agentIndexFromState(back, agents, semanticOpt);
      for (const r of data.test) expect(b.classify(r.text)).toEqual(a.classify(r.text));
    }
  });

  it('agent index file - the softmax heads keep only the rows of features some card text has; a dense fit (older files) answers the same', () => {
    const state = fitAgentIndex(agents, taxonomy, { semantic });
    const C = agents.length;
    const head = state.head!;
    const joint = state.joint!;
    expect(head.rows!.length).toBeGreaterThan(0);
    expect(head.rows!.length).toBeLessThan(head.dim / 4);
    expect(head.w.length).toBe(head.rows!.length * C);
    expect(joint.w.length).toBe((joint.rows!.length + joint.dim - joint.denseFrom) * C);
    // the layout files held before `rows`: a row for every hashed feature, then the dense block
    const dense = (h: { dim: number; w: Float32Array; rows?: Uint32Array }, from: number): Float32Array => {
      const w = new Float32Array(h.dim * C);
      h.rows!.forEach((f, r) => w.set(h.w.subarray(r * C, (r + 1) * C), f * C));
      w.set(h.w.subarray(h.rows!.length * C), from * C);
      return w;
    };
    const old = {
      ...state,
      head: { dim: head.dim, w: dense(head, head.dim), b: head.b },
      joint: { dim: joint.dim, denseFrom: joint.denseFrom, candidates: joint.candidates, w: dense(joint, joint.denseFrom), b: joint.b },
    };
    const a = agentIndexFromState(state, agents, { semantic, fastPath: 2 });
    const b = agentIndexFromState(decodeAgentIndex(encodeAgentIndex(old, 'k')).state, agents, { semantic, fastPath: 2 });
    for (const r of data.test) expect(b.classify(r.text)).toEqual(a.classify(r.text));
  });

  it('agent index file - bytes that are not an index are refused with a clear error', () => {
    const bytes = encodeAgentIndex(fitAgentIndex(agents, taxonomy), 'k');
    expect(savedIndexKey(bytes)).toBe('k');
    expect(savedIndexKey(new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(() => decodeAgentIndex(new Uint8Array([1, 2, 3]))).toThrow(/not a readable agent index: too short/);
    expect(() => decodeAgentIndex(bytes.subarray(0, bytes.byteLength - 100))).toThrow(/truncated/);
    const wrong = bytes.slice();
    wrong[4] = 9;
    expect(() => decodeAgentIndex(wrong)).toThrow(InvalidInputError);
  });
});
