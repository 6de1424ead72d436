import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './load.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('datasets - format detection and cleaning', () => {
  it('llmrouter - 9 models with prices, one eval, test queries seen in train dropped', () => {
    const ds = loadDataset(fixture('llmrouter-excerpt.jsonl'));
    expect(ds.format).toBe('llmrouter');
    expect(ds.models).toHaveLength(9);
    expect(ds.models.find((m) => m.id === 'gemma-2-9b-it')!.inputPricePerMTok).toBeCloseTo(0.1);
    const train = new Set(ds.rows.filter((r) => r.split === 'train').map((r) => r.prompt));
    expect(ds.rows.filter((r) => r.split === 'test' && train.has(r.prompt))).toHaveLength(0);
    for (const r of ds.rows) expect(r.costUsd.every((c) => c > 0)).toBe(true);
  });

  it('routerbench format - duplicate ids dropped, missing labels kept as NaN, prices fitted from costs', () => {
    const ds = loadDataset(fixture('routerbench-synthetic.jsonl'));
    expect(ds.format).toBe('routerbench');
    expect(ds.rows).toHaveLength(60);
    expect(ds.evals).toEqual(['arc-challenge', 'mbpp', 'winogrande']);
    expect(ds.rows.some((r) => r.scores.some((v) => Number.isNaN(v)))).toBe(true);
    const [cheap, , big] = ds.models;
    expect(big!.inputPricePerMTok + big!.outputPricePerMTok).toBeGreaterThan(cheap!.inputPricePerMTok + cheap!.outputPricePerMTok);
  });

  it('routellm mmlu - two models, strong/weak marked, split fixed by question', () => {
    const a = loadDataset(fixture('mmlu-excerpt.jsonl'));
    const b = loadDataset(fixture('mmlu-excerpt.jsonl'));
    expect(a.format).toBe('routellm-mmlu');
    expect(a.strongWeak).toBeDefined();
    expect(a.models[a.strongWeak![0]]!.id).toBe('gpt-4-1106-preview');
    expect(a.rows.map((r) => r.split)).toEqual(b.rows.map((r) => r.split));
    const test = a.rows.filter((r) => r.split === 'test').length;
    expect(test).toBeGreaterThan(5);
    expect(test).toBeLessThan(45);
  });

  it('unknown format - a clear error', () => {
    expect(() => loadDataset(fixture('README.md'))).toThrow(/not JSON|unknown format/);
  });
});
