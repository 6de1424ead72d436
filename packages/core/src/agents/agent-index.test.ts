import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.ts';
import { buildAgentIndex } from './agent-index.ts';
import { calibrateThreshold, thresholdMetrics } from './calibrate.ts';
import mini from './fixtures/clinc-mini.json' with { type: 'json' };
import type { AgentSpec, Taxonomy } from './types.ts';

interface Row {
  text: string;
  intent: string;
  domain: string | null;
}
const data = mini as unknown as { train: Row[]; val: Row[]; test: Row[] };

function spec(id: string, examples: string[], category?: string): AgentSpec {
  return {
    id,
    tenants: [],
    healthy: true,
    ...(category ? { category } : {}),
    card: { name: id, description: '', url: `http://x/${id}`, version: '1', skills: [{ id, name: id, description: '', tags: [], examples }] },
  };
}
const intents = [...new Set(data.train.map((r) => r.intent))];
const domainOf = new Map(data.train.map((r) => [r.intent, r.domain!]));
const agents = intents.map((i) => spec(i, data.train.filter((r) => r.intent === i).map((r) => r.text)));
const taxonomy: Taxonomy = {
  categories: [...new Set(domainOf.values())].map((d) => ({ id: d, description: d.replace(/_/g, ' '), agentIds: intents.filter((i) => domainOf.get(i) === d) })),
};
const index = buildAgentIndex(agents, taxonomy);

describe('agents index', () => {
  it('agents index - classifies held-out CLINC utterances from card examples', () => {
    const test = data.test.filter((r) => r.intent !== 'oos');
    const right = test.filter((r) => index.classify(r.text).candidates[0]?.agentId === r.intent).length;
    expect(right / test.length).toBeGreaterThanOrEqual(0.85);
  });

  it('agents index - a threshold calibrated on val rejects most out-of-scope test queries', () => {
    const sample = (r: Row) => {
      const top = index.classify(r.text).candidates[0];
      return { score: top?.score ?? 0, inScope: r.intent !== 'oos', correct: top?.agentId === r.intent };
    };
    const cal = calibrateThreshold(data.val.map(sample));
    const m = thresholdMetrics(data.test.map(sample), cal.threshold);
    expect(m.oosRecall).toBeGreaterThanOrEqual(0.6);
    expect(m.inScopeAccuracy).toBeGreaterThanOrEqual(0.6);
  });

  it('agents index - returns top-k categories and only their agents, best first', () => {
    const r = index.classify('what is the weather like in paris tomorrow', undefined, 1);
    expect(r.categories).toHaveLength(1);
    expect(r.categories[0]!.category).toBe('utility');
    expect(r.candidates[0]!.agentId).toBe('weather');
    for (const c of r.candidates) expect(domainOf.get(c.agentId)).toBe('utility');
    const scores = r.candidates.map((c) => c.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(r.inScope).toBe(r.candidates[0]!.score >= r.threshold);
  });

  it('agents index - context from earlier turns shifts an ambiguous turn', () => {
    const q = 'and for tomorrow';
    const ctx = [{ role: 'user', content: 'will it rain today in boston' }];
    const w = (r: ReturnType<typeof index.classify>) => r.candidates.find((c) => c.agentId === 'weather')?.score ?? 0;
    expect(w(index.classify(q, ctx, 5))).toBeGreaterThan(w(index.classify(q, undefined, 5)));
  });

  it('agents index - with context, each candidate also carries its score on the turn alone, and the turn alone\'s best agent is a candidate', () => {
    // a new task after a weather conversation, with context weighed fully: the blend stays with weather
    const idx = buildAgentIndex(agents, taxonomy, { contextWeight: 1 });
    const ctx = [{ role: 'user', content: 'will it rain today in boston' }, { role: 'assistant', content: 'will it rain in boston: yes, rain all day in boston' }];
    const alone = idx.classify('my balance please', undefined, 1);
    expect(alone.candidates[0]!.agentId).toBe('balance');
    expect(alone.candidates.every((c) => c.turnScore === undefined)).toBe(true);
    const r = idx.classify('my balance please', ctx, 1);
    expect(r.categories.map((c) => c.category)).toEqual(['utility']);
    expect(r.candidates[0]!.agentId).toBe('weather');
    // balance's category was not retrieved, but the turn alone ranks it first: it is a candidate, with both scores
    const balance = r.candidates.find((c) => c.agentId === 'balance');
    expect(balance).toMatchObject({ category: 'banking', turnScore: alone.candidates[0]!.score });
    expect(balance!.score).toBeLessThan(r.candidates[0]!.score);
    for (const c of r.candidates) expect(c.turnScore).toBeTypeOf('number');
    expect(r.candidates.find((c) => c.agentId === 'weather')!.turnScore).toBeLessThan(0.1);
  });

  it('agents index - agents without a category are clustered bottom-up', () => {
    const free = buildAgentIndex(agents, undefined, { clusters: 3 });
    const r = free.classify('transfer 100 dollars to my savings account', undefined, 3);
    expect(r.categories.every((c) => c.category.startsWith('cluster:'))).toBe(true);
    expect(r.candidates[0]!.agentId).toBe('transfer');
  });

  it('agents index - AgentSpec.category joins a taxonomy category', () => {
    const idx = buildAgentIndex([spec('a', ['book a table for two tonight'], 'food'), spec('b', ['what is my checking balance'], 'money')]);
    expect(idx.classify('reserve a table tonight', undefined, 1).categories[0]!.category).toBe('food');
  });

  it('agents index - is deterministic', () => {
    const again = buildAgentIndex(agents, taxonomy);
    expect(again.classify('set an alarm for 7 am')).toEqual(index.classify('set an alarm for 7 am'));
  });

  it('agents index - rejects empty queries and duplicate agent ids', () => {
    expect(() => index.classify('  ')).toThrow(InvalidInputError);
    expect(() => buildAgentIndex([agents[0]!, agents[0]!])).toThrow(/duplicate agent id/);
  });

  it('agents index - works with zero and one agent', () => {
    expect(buildAgentIndex([]).classify('hello').candidates).toEqual([]);
    const one = buildAgentIndex([agents[0]!]);
    expect(one.size).toBe(1);
    expect(one.classify('hello').candidates).toHaveLength(1);
  });
});
