import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { routingRowJsonSchema } from './format.ts';
import { importFile } from './import.ts';
import { loadDataset, parseModelList, selectModels } from './load.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'moma-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (rows: unknown[]): string => {
  const f = path.join(dir, `d${n++}.jsonl`);
  writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n'));
  return f;
};
const row = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  prompt: `question ${id}`,
  task: 't',
  scores: { a: 1, b: false },
  cost_usd: { a: 0.002, b: 0.0001 },
  ...extra,
});

describe('datasets - the routing-data format', () => {
  it('schema - the committed JSON Schema is the one the loader validates with', () => {
    const committed = JSON.parse(readFileSync(fileURLToPath(new URL('../../../../schemas/routing-data.schema.json', import.meta.url)), 'utf8'));
    expect(committed).toEqual(routingRowJsonSchema());
  });

  it('load - scores as numbers or booleans, the file split honoured, tasks grouped, prices fitted from costs', () => {
    const ds = loadDataset(
      file([
        row('1', { split: 'train', task: 'maths' }),
        row('2', { split: 'test', task: 'code', scores: { a: 0.25, b: true } }),
        row('3', { split: 'val', task: 'maths', scores: { a: null, b: 0 } }),
      ]),
    );
    expect(ds.format).toBe('moma');
    expect(ds.models.map((m) => m.id)).toEqual(['a', 'b']);
    expect(ds.rows.map((r) => r.split)).toEqual(['train', 'test', 'train']);
    expect(ds.evals).toEqual(['code', 'maths']);
    expect([...ds.rows[1]!.scores]).toEqual([0.25, 1]);
    expect(Number.isNaN(ds.rows[2]!.scores[0]!)).toBe(true);
    expect(ds.models[0]!.inputPricePerMTok).toBeGreaterThan(ds.models[1]!.inputPricePerMTok);
    expect(ds.strongWeak).toEqual([0, 1]);
  });

  it('load - messages instead of a prompt: the routed turn is the last user message', () => {
    const ds = loadDataset(file([row('1', { prompt: undefined, messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }, { role: 'user', content: 'and now?' }] })]));
    expect(ds.rows[0]!.prompt).toBe('and now?');
  });

  it('load - a wrong type names the file, the row and the field, and fails (it never becomes "missing")', () => {
    const f = file([row('1'), row('2', { scores: { a: 'yes', b: 1 } })]);
    expect(() => loadDataset(f)).toThrow(new RegExp(`${path.basename(f)}: row 2 \\(id 2\\): scores\\.a:`));
    expect(() => loadDataset(file([row('1', { scores: { a: 1.5 } })]))).toThrow(/row 1 \(id 1\): scores\.a/);
    expect(() => loadDataset(file([row('1', { prompt: undefined })]))).toThrow(/row 1 \(id 1\): prompt: give prompt or messages/);
    expect(() => loadDataset(file([row('1', { split: 'dev' })]))).toThrow(/split/);
    expect(() => loadDataset(file([row('1', { colour: 'red' })]))).toThrow(/row 1 \(id 1\)/);
    expect(() => loadDataset(file([row('1', { judgements: [{ a: 'a', b: 'b', label: 'a>>>b' }] })]))).toThrow(/judgements\.0\.label/);
    // The paper's Unicode classes are accepted.
    expect(loadDataset(file([row('1', { judgements: [{ a: 'a', b: 'b', label: 'a≫b' }] })])).rows).toHaveLength(1);
  });

  it('load - a split on some rows only, a repeated id, or a model without a price is refused, naming it', () => {
    expect(() => loadDataset(file([row('1', { split: 'train' }), row('2')]))).toThrow(/row 2: split: missing, while 1 other rows have one/);
    const a = file([row('1')]);
    const b = file([row('1')]);
    expect(() => loadDataset([a, b])).toThrow(/id "1" is also used at/);
    const noCost = file([row('1', { cost_usd: undefined }), row('2', { cost_usd: undefined })]);
    expect(() => loadDataset(noCost)).toThrow(/no price for "a", "b": .*--prices FILE/);
    const priced = loadDataset(noCost, { prices: { a: { input: 10, output: 30 }, b: { input: 0.1, output: 0.2 } } });
    expect(priced.models[0]).toMatchObject({ inputPricePerMTok: 10, outputPricePerMTok: 30 });
    expect(priced.rows[0]!.costUsd[0]).toBeGreaterThan(0);
  });

  it('load - several files and folders combine; a file without split is split by question, the same every time', () => {
    const rows = Array.from({ length: 60 }, (_, i) => row(`q${i}`));
    const f = file(rows);
    const one = loadDataset(f);
    const again = loadDataset(f);
    expect(one.rows.map((r) => r.split)).toEqual(again.rows.map((r) => r.split));
    const test = one.rows.filter((r) => r.split === 'test').length;
    expect(test).toBeGreaterThan(5);
    expect(test).toBeLessThan(35);
    expect(one.notes.join(' ')).toMatch(/no split in the data/);
  });

  it('--models - routes among the named models only: their columns in that order, a strong/weak pair for two, rows scoring none dropped', () => {
    const ds = loadDataset(
      file([
        row('1', { split: 'train', scores: { a: 1, b: 0, c: 0 }, cost_usd: { a: 0.002, b: 0.0001, c: 0.001 } }),
        row('2', { split: 'train', scores: { a: 0, b: 0, c: 1 }, cost_usd: { a: 0.002, b: 0.0001, c: 0.001 } }),
        row('3', { split: 'test', scores: { a: null, b: 1, c: null }, cost_usd: { a: 0.002, b: 0.0001, c: 0.001 } }),
      ]),
    );
    expect(ds.strongWeak).toBeUndefined();
    const two = selectModels(ds, parseModelList('c, a'));
    expect(two.models.map((m) => m.id)).toEqual(['c', 'a']);
    expect(two.rows.map((r) => [...r.scores])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect([...two.rows[0]!.costUsd].map((c) => Number(c.toFixed(4)))).toEqual([0.001, 0.002]);
    expect(two.strongWeak).toEqual([0, 1]);
    expect(two.notes.join(' ')).toMatch(/models: c, a \(of 3\); 1 row scoring none of them dropped/);
    expect(selectModels(ds, [])).toBe(ds);
    expect(() => selectModels(ds, ['a', 'z'])).toThrow(/--models names z, not a model of .* \(its models: a, b, c\)/);
    expect(() => selectModels(ds, ['a'])).toThrow(/at least two models/);
    expect(() => selectModels(ds, ['a', 'a'])).toThrow(/gives a twice/);
    expect(() => parseModelList('a,,b')).toThrow(/comma-separated/);
  });
});

describe('datasets - importers', () => {
  it('llmrouter - 9 models with the published prices, one group per task, test queries seen in train dropped', () => {
    const ds = loadDataset(fixture('llmrouter-excerpt.jsonl'));
    expect(ds.format).toBe('llmrouter');
    expect(ds.models).toHaveLength(9);
    expect(ds.models.find((m) => m.id === 'gemma-2-9b-it')!.inputPricePerMTok).toBeCloseTo(0.1);
    expect(ds.evals.length).toBeGreaterThan(5);
    const train = new Set(ds.rows.filter((r) => r.split === 'train').map((r) => r.prompt));
    expect(ds.rows.filter((r) => r.split === 'test' && train.has(r.prompt))).toHaveLength(0);
    for (const r of ds.rows) expect(r.costUsd.every((c) => c > 0)).toBe(true);
  });

  it('llmrouter - a model outside the published price table is refused unless --prices gives it', () => {
    const raw = readFileSync(fixture('llmrouter-excerpt.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 4);
    const renamed = raw.map((l) => l.replace(/"gemma-2-9b-it"/g, '"my-finetune"'));
    const f = path.join(dir, 'llmrouter-renamed.jsonl');
    writeFileSync(f, renamed.join('\n'));
    expect(() => loadDataset(f)).toThrow(/no price for "my-finetune"/);
    expect(loadDataset(f, { prices: { 'my-finetune': { input: 0.3, output: 0.6 } } }).models.map((m) => m.id)).toContain('my-finetune');
  });

  it('routerbench - duplicate ids dropped, missing labels kept as NaN, prices fitted from the recorded costs', () => {
    const ds = loadDataset(fixture('routerbench-synthetic.jsonl'));
    expect(ds.format).toBe('routerbench');
    expect(ds.rows).toHaveLength(60);
    expect(ds.evals).toEqual(['arc-challenge', 'mbpp', 'winogrande']);
    expect(ds.rows.some((r) => r.scores.some((v) => Number.isNaN(v)))).toBe(true);
    const [cheap, , big] = ds.models;
    expect(big!.inputPricePerMTok + big!.outputPricePerMTok).toBeGreaterThan(cheap!.inputPricePerMTok + cheap!.outputPricePerMTok);
  });

  it('routellm - strong and weak found from the scores, tasks by subject; its own split is honoured when present', () => {
    const ds = loadDataset(fixture('mmlu-excerpt.jsonl'));
    expect(ds.format).toBe('routellm');
    expect(ds.models[ds.strongWeak![0]]!.id).toBe('gpt-4-1106-preview');
    expect(ds.evals.length).toBeGreaterThan(10);
    const raw = readFileSync(fixture('mmlu-excerpt.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const withSplit = file(raw.map((r, i) => ({ ...r, split: i % 4 === 0 ? 'test' : 'train' })));
    const own = loadDataset(withSplit);
    expect(own.rows.filter((r) => r.split === 'test').length).toBe(raw.filter((_, i) => i % 4 === 0).length);
  });

  it('routellm - a label of the wrong type names the row and the field', () => {
    const f = file([
      { subject: 's', prompt: 'p1', correct: { x: true, y: false } },
      { subject: 's', prompt: 'p2', correct: { x: 'true', y: false } },
    ]);
    expect(() => importFile(f, { prices: { x: { input: 1, output: 1 }, y: { input: 1, output: 1 } } })).toThrow(/row 2: correct\.x:/);
  });

  it('import - a source file imported to the format loads to the same dataset as the source itself', () => {
    const src = fixture('routerbench-synthetic.jsonl');
    const imported = importFile(src);
    const out = file(imported.rows);
    const a = loadDataset(src);
    const b = loadDataset(out);
    expect(b.format).toBe('moma');
    expect(b.rows.map((r) => [r.id, r.split, r.task, [...r.scores], [...r.costUsd]])).toEqual(a.rows.map((r) => [r.id, r.split, r.task, [...r.scores], [...r.costUsd]]));
    expect(b.models).toEqual(a.models);
  });

  it('unknown format - a clear error', () => {
    expect(() => loadDataset(fixture('README.md'))).toThrow(/not JSON|unknown format/);
    expect(() => loadDataset(path.join(dir, 'nope.jsonl'))).toThrow(/no such file or folder/);
  });
});
