import { describe, expect, it } from 'vitest';
import { extractQuestion, promptText, routingText } from './extract.ts';

describe('question extraction - few-shot prompts', () => {
  it('extract - keeps only the question after the last solved example (ARC style)', () => {
    const prompt = [
      'Which gas do plants absorb?\nA) oxygen\nB) carbon dioxide\nPrint only a single choice.\nAnswer:\nB',
      'What melts ice fastest?\nA) salt\nB) sand\nPrint only a single choice.\nAnswer:\nA',
      'Why does the Moon have phases?\nA) shadow of Earth\nB) its orbit around Earth\nPrint only a single choice.\nAnswer:',
    ].join('\n\n');
    const q = extractQuestion(prompt);
    expect(q.startsWith('Why does the Moon have phases?')).toBe(true);
    expect(q).not.toContain('plants');
  });

  it('extract - handles "Answer: X" on one line (Winogrande style)', () => {
    const prompt = 'Pick one.\n\nTom beat Sam because _ was faster.\nA) Tom\nB) Sam\nAnswer: A\n\nAnn thanked Bea because _ helped.\nA) Ann\nB) Bea\nAnswer:';
    expect(extractQuestion(prompt)).toBe('Ann thanked Bea because _ helped.\nA) Ann\nB) Bea\nAnswer:');
  });

  it('extract - leaves a plain question unchanged', () => {
    expect(extractQuestion('  Write a python function to add two numbers.  ')).toBe('Write a python function to add two numbers.');
  });
});

describe('question extraction - multi-turn', () => {
  it('routing text - the last user turn plus the tail of its context', () => {
    const input = {
      text: 'and in Rust?',
      context: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'How do I reverse a list in Python?' },
        { role: 'assistant', content: 'Use reversed() or slicing.' },
      ],
    };
    const t = routingText(input);
    expect(t.startsWith('and in Rust?')).toBe(true);
    expect(t).toContain('reverse a list in Python');
    expect(t).not.toContain('be brief');
    expect(promptText(input)).toContain('be brief');
  });
});
