import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

  it('the tokenizer is loaded by the first count, not by importing @moma/core (services that never count skip ~25 MB)', () => {
    // a fresh node process: which modules are loaded after the import, and after one count
    const core = fileURLToPath(new URL('../index.ts', import.meta.url));
    const script = `
      import { registerHooks } from 'node:module';
      let loaded = false;
      // sees both import and require
      registerHooks({ resolve: (spec, ctx, next) => { if (spec.includes('gpt-tokenizer')) loaded = true; return next(spec, ctx); } });
      const core = await import(${JSON.stringify(core)});
      const before = loaded;
      const n = core.countTokens('Hello world');
      console.log(JSON.stringify({ before, after: loaded, n }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ before: false, after: true, n: 2 });
  });
});
