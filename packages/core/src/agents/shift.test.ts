import { describe, expect, it } from 'vitest';
import { buildAgentIndex } from './agent-index.ts';
import { ShiftDetector, type ShiftSample } from './shift.ts';
import type { AgentSpec } from './types.ts';

// Tiny synthetic dialogues: answers to a question stay, new requests after "anything else?" shift.
const answers = ['yes please', 'two people', 'at 7 pm', 'in san jose', 'that works for me', 'no, the cheaper one', 'march 3rd'];
const requests = ['can you also find me a hotel', 'i also need a cab', 'now find me a restaurant', 'could you check the weather too', 'i would like to book a bus as well'];
const questions = ['how many people?', 'what time?', 'which city?', 'shall i book it?', 'which date?'];
const closers = ['anything else i can help with?', 'your booking is confirmed. anything else?', 'done. can i help with something else?'];
const samples: ShiftSample[] = [];
for (const q of questions) for (const a of answers) samples.push({ user: a, system: q, shifted: false });
for (const c of closers) for (const r of requests) samples.push({ user: r, system: c, shifted: true });

describe('agents shift', () => {
  const det = ShiftDetector.fit(samples, { dim: 1 << 10, head: { epochs: 30 } });

  it('agents shift - scores a new request after a closing question above an answer to a question', () => {
    expect(det.score('can you find me a hotel as well', 'anything else?')).toBeGreaterThan(0.5);
    expect(det.score('two people at 7 pm', 'how many people and what time?')).toBeLessThan(0.5);
  });

  it('agents shift - the index reports the shift and drops the context of a shifted turn', () => {
    const spec = (id: string, examples: string[]): AgentSpec => ({
      id,
      tenants: [],
      healthy: true,
      card: { name: id, description: '', url: `http://x/${id}`, version: '1', skills: [{ id, name: id, description: '', tags: [], examples }] },
    });
    const agents = [spec('hotels', ['find me a hotel room', 'book a hotel']), spec('weather', ['will it rain', 'weather forecast today'])];
    const plain = buildAgentIndex(agents, undefined, { contextWeight: 1 });
    const withShift = buildAgentIndex(agents, undefined, { contextWeight: 1, shift: det });
    const ctx = [{ role: 'user', content: 'will it rain today, weather forecast' }, { role: 'assistant', content: 'anything else?' }];
    const q = 'can you also find me a hotel';
    const r = withShift.classify(q, ctx, 5);
    expect(r.shift).toBeGreaterThan(0.5);
    const h = (x: typeof r) => x.candidates.find((c) => c.agentId === 'hotels')!.score;
    expect(h(r)).toBeGreaterThan(h(plain.classify(q, ctx, 5)));
    expect(plain.classify(q, ctx, 5).shift).toBeUndefined();
  });

  it('agents shift - refuses an empty training set', () => {
    expect(() => ShiftDetector.fit([])).toThrow(/at least one sample/);
  });
});
