import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runDocs } from './docs.ts';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`./data/fixtures/${name}`, import.meta.url)), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'moma-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('moma docs - the LLM results pages', () => {
  it('writes the pages of the data present, and the MMLU router scored on another benchmark of its two models', async () => {
    const datasets = join(dir, 'datasets');
    mkdirSync(join(datasets, 'routellm-evals'), { recursive: true });
    mkdirSync(join(datasets, 'routerbench-subset'), { recursive: true });
    writeFileSync(join(datasets, 'routellm-evals', 'mmlu_gpt4_vs_mixtral.jsonl'), fixture('mmlu-excerpt.jsonl'));
    // the synthetic RouterBench rows with two of their models named as RouterBench names GPT-4 and Mixtral
    const rb = fixture('routerbench-synthetic.jsonl').replaceAll('"big-gpt"', '"gpt-4-1106-preview"').replaceAll('"cheap-7b"', '"mistralai/mixtral-8x7b-chat"');
    writeFileSync(join(datasets, 'routerbench-subset', 'routerbench_subset.jsonl'), rb);
    const out = join(dir, 'out');
    expect(await runDocs(['--datasets', datasets, '--out', out, '--llm-only', '--quiet', '--dim', '256'])).toBe(0);
    const cross = JSON.parse(readFileSync(join(out, 'llm', 'routellm-mmlu-on-routerbench.json'), 'utf8'));
    // only the two shared models, Mixtral under the artifact's name, with the kNN and random baselines measured
    expect(cross.models.map((m: { id: string }) => m.id).sort()).toEqual(['gpt-4-1106-preview', 'mistralai/Mixtral-8x7B-Instruct-v0.1']);
    expect(cross.notes.join(' ')).toContain("the data's mistralai/mixtral-8x7b-chat is evaluated as mistralai/Mixtral-8x7B-Instruct-v0.1");
    const all = cross.evals[0];
    expect(all.queries).toBeGreaterThan(0);
    expect(typeof all.router.apgr).toBe('number');
    expect(typeof all.baselines.knn.apgr).toBe('number');
    expect(all.baselines.random.seeds).toBe(200);
    const readme = readFileSync(join(out, 'llm', 'README.md'), 'utf8');
    expect(readme).toContain('(routellm-mmlu router)](routellm-mmlu-on-routerbench.md)');
    expect(readme).not.toContain('dcrouter_joined'); // absent data: no page
    // the reference: a router trained on RouterBench's own train split for the same two models, on its test rows,
    // and the MMLU router on those same rows
    const ref = JSON.parse(readFileSync(join(out, 'llm', 'routerbench-gpt4-mixtral.json'), 'utf8'));
    expect(ref.models.map((m: { id: string }) => m.id)).toEqual(['gpt-4-1106-preview', 'mistralai/mixtral-8x7b-chat']);
    expect(typeof ref.evals[0].router.apgr).toBe('number');
    const sameRows = JSON.parse(readFileSync(join(out, 'llm', 'routellm-mmlu-on-routerbench-test.json'), 'utf8'));
    expect(sameRows.evals[0].queries).toBe(ref.evals[0].queries);
    expect(sameRows.evals[0].queries).toBeLessThan(all.queries);
    expect(readme).toContain('(routerbench-gpt4-mixtral.md)');
  }, 120_000);

  it('skips the other-benchmark page when that benchmark lacks the router\'s models', async () => {
    const datasets = join(dir, 'datasets-other');
    mkdirSync(join(datasets, 'routellm-evals'), { recursive: true });
    mkdirSync(join(datasets, 'routerbench-subset'), { recursive: true });
    writeFileSync(join(datasets, 'routellm-evals', 'mmlu_gpt4_vs_mixtral.jsonl'), fixture('mmlu-excerpt.jsonl'));
    writeFileSync(join(datasets, 'routerbench-subset', 'routerbench_subset.jsonl'), fixture('routerbench-synthetic.jsonl'));
    const out = join(dir, 'out-other');
    expect(await runDocs(['--datasets', datasets, '--out', out, '--llm-only', '--quiet', '--dim', '256'])).toBe(0);
    const readme = readFileSync(join(out, 'llm', 'README.md'), 'utf8');
    expect(readme).toContain('(routerbench.md)');
    expect(readme).not.toContain('routellm-mmlu-on-routerbench.md');
    expect(readme).not.toContain('routerbench-gpt4-mixtral.md');
  }, 120_000);
});
