import { describe, expect, it } from 'vitest';
import { countTokens } from './tokens.ts';

describe('tokens - countTokens', () => {
  it('counts cl100k_base tokens exactly for short texts', () => {
    // "Hello world" is two cl100k tokens; an empty text is none.
    expect(countTokens('Hello world')).toBe(2);
    expect(countTokens('')).toBe(0);
  });

  it('treats special-token text in a prompt as plain text instead of failing', () => {
    const n = countTokens('a prompt that mentions <|endoftext|> literally');
    expect(n).toBeGreaterThan(5);
  });

  it('estimates long texts close to the exact count', () => {
    const sentence = 'The quick brown fox jumps over the lazy dog. ';
    const long = sentence.repeat(100); // 4,500 chars, 10 tokens per sentence
    expect(Math.abs(countTokens(long) - 1000)).toBeLessThan(30);
  });
});
