import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStaticEncoder, loadUseModel, SemanticCache, USE_ID, USE_MAX_TOKENS, useTokenizer, type UseModel } from './index.ts';
import { tokenIds } from './use-vocab.ts';

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe('semantic encoder', () => {
  let model: UseModel;
  beforeAll(async () => {
    model = await loadUseModel();
  });
  afterAll(() => model?.dispose());

  it('semantic encoder - loads from the installed package (no network) and gives the same vector for the same text', async () => {
    const [a, b] = await model.embed(['how do I reset my password', 'how do I reset my password']);
    expect(model.id).toBe(USE_ID);
    expect(a!.length).toBe(512);
    expect(Math.abs(dot(a!, a!) - 1)).toBeLessThan(1e-4);
    expect(Array.from(a!)).toEqual(Array.from(b!));
    const [alone] = await model.embed(['how do I reset my password']);
    // batched or alone, the same text gets (numerically) the same vector
    expect(dot(a!, alone!)).toBeGreaterThan(0.9999);
  });

  it('semantic encoder - paraphrases are closer than unrelated requests, with no word in common', async () => {
    const [q, para, other] = await model.embed(['I forgot my login credentials', 'how do I reset my password', 'what is the weather in paris']);
    expect(dot(q!, para!)).toBeGreaterThan(dot(q!, other!) + 0.2);
  });

  it('semantic encoder - a very long message is embedded from its first tokens, in bounded time', async () => {
    const long = 'please help me book a table for four people tonight at an italian place near the station '.repeat(500);
    const ids = useTokenizer().encode(long);
    expect(ids.length).toBeGreaterThan(USE_MAX_TOKENS * 10);
    const [whole] = await model.embed([long]);
    const [head] = await model.embedTokens([ids.slice(0, USE_MAX_TOKENS)]);
    expect(Array.from(whole!)).toEqual(Array.from(head!));
  });

  it('semantic encoder - the cache embeds each text once and puts concurrent requests in one model call', async () => {
    const cache = new SemanticCache(model, { capacity: 8 });
    const texts = ['book a table for two', 'play some jazz', 'what is my balance', 'book a table for two'];
    const [r1, r2] = await Promise.all([cache.embed(texts.slice(0, 2)), cache.embed(texts.slice(2))]);
    expect(cache.stats.batches).toBe(1);
    expect(cache.stats.embedded).toBe(3);
    expect(Array.from(r2![1]!)).toEqual(Array.from(r1![0]!));
    await cache.embed(['play some jazz']);
    expect(cache.stats.embedded).toBe(3);
    expect(cache.stats.hits).toBeGreaterThanOrEqual(1);
  });

  it('semantic encoder - a batch holds at most maxBatchChars characters (a longer text alone), with the same vectors', async () => {
    const texts = ['a'.repeat(30), 'b'.repeat(30), 'c'.repeat(30), 'd'.repeat(100), 'e'.repeat(10)];
    const small = new SemanticCache(model, { maxBatchChars: 64 });
    const big = new SemanticCache(model);
    const [a, b] = [await small.embedAll(texts), await big.embedAll(texts)];
    // [a b] [c] [d] [e]: 60 chars, then 30 + 100 > 64, then 100 alone
    expect(small.stats.batches).toBe(4);
    expect(big.stats.batches).toBe(1);
    a.forEach((v, i) => v.forEach((x, j) => expect(x).toBeCloseTo(b[i]![j]!, 5)));
    // the concurrent-query path splits the same way
    const q = new SemanticCache(model, { maxBatchChars: 64 });
    await Promise.all(texts.map((t) => q.embed([t])));
    expect(q.stats.batches).toBe(4);
  });

  it('semantic encoder - long texts are tokenised in chunks with the same ids as whole, and a megabyte is no hang', () => {
    const tok = useTokenizer();
    const text = 'What is the capital of France?  It is Paris,\nwhich lies on the Seine. '.repeat(40);
    expect(text.length).toBeGreaterThan(2000);
    expect(tokenIds(tok, text)).toEqual(tok.encode(text));
    expect(tokenIds(tok, text, 10)).toEqual(tok.encode(text).slice(0, 10));
    // the whole-text tokenizer is quadratic (40,000 characters took 4 s); these return at once
    expect(tokenIds(tok, 'word '.repeat(200_000), 4096)).toHaveLength(4096);
    expect(tokenIds(tok, 'x'.repeat(1_000_000), 128)).toHaveLength(128);
  });

  it('semantic encoder - the static distillation is synchronous, deterministic and agrees with the full model on which text is closer', async () => {
    const st = await loadStaticEncoder();
    expect(st.dim).toBe(512);
    expect(st.id).toContain(USE_ID);
    const a = st.encode('transfer money to my savings account');
    expect(Array.from(st.encode('transfer money to my savings account'))).toEqual(Array.from(a));
    const near = st.encode('move funds into savings');
    const far = st.encode('set an alarm for 7 am');
    expect(dot(a, near)).toBeGreaterThan(dot(a, far));
  });
});
