// `moma profile` end to end against local OpenAI-compatible stand-ins for three models and a judge, with
// deterministic answers so the expected labels are known: interrupted and resumed with no repeated upstream call;
// the data it writes trains an artifact (`moma train`) that `moma publish` hot-loads into a running scoring service.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPool, runProfile, runPublish, runTrain } from '@moma/cli';
import { createLogger, MemoryBus, MemoryStore, stageClient } from '@moma/platform';
import { ScoringStageDefinition } from '@moma/proto';
import { DEFAULT_ARTIFACT_DIR, startScoring } from '@moma/scoring';
import { startFakeOpenAI, type FakeChatMessage, type FakeOpenAI } from '@moma/testkit';

const N = 24;
const sum = (i: number) => 2 * i + 1;
/** good is always right; ok is right on even questions; bad never. */
const right = (model: string, i: number) => model === 'good' || (model === 'ok' && i % 2 === 0);
const answerOf = (model: string, i: number) => (right(model, i) ? `The answer is ${sum(i)}.` : 'The answer is 0.');
const questionIndex = (text: string) => Number(/What is (\d+) \+/.exec(text)?.[1] ?? -1);

/** The judge: an answer is right when it states the sum of the question it was asked about. */
function judge(messages: FakeChatMessage[]): string {
  const text = messages.at(-1)!.content;
  const i = questionIndex(text);
  const ok = (a: string) => a.includes(`answer is ${sum(i)}`);
  const section = (name: string) => new RegExp(`\\[${name}\\]\\n([\\s\\S]*?)\\n\\n\\[`).exec(`${text}\n\n[`)?.[1] ?? '';
  if (text.includes('[Reference answer]')) return `Compared with the reference.\n[[${ok(section('Answer')) ? 10 : 0}]]`;
  const [a, b] = [ok(section('Answer A')), ok(section('Answer B'))];
  return `Checked both.\n${a === b ? '[[A=B]]' : a ? '[[A>>B]]' : '[[B>>A]]'}`;
}

describe('profile - a pool profiled, trained on and hot-loaded', () => {
  let fake: FakeOpenAI;
  let dir: string;
  let controller: AbortController | undefined;
  let abortAfter = Infinity;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'moma-profile-'));
    fake = await startFakeOpenAI({
      reply: (messages, model) => {
        if (fake.calls() >= abortAfter) controller?.abort();
        if (model === 'judge') return judge(messages);
        return answerOf(model, questionIndex(messages.at(-1)!.content));
      },
    });
    writeFileSync(
      path.join(dir, 'prompts.jsonl'),
      Array.from({ length: N }, (_, i) =>
        JSON.stringify({ id: `q${i}`, prompt: `What is ${i} + ${i + 1}?`, task: i < N / 2 ? 'sums' : 'more-sums', ...(i % 3 === 0 ? { reference: String(sum(i)) } : {}) }),
      ).join('\n'),
    );
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const providers = () =>
    JSON.stringify([
      {
        name: 'local',
        baseUrl: fake.url,
        models: ['good', 'ok', 'bad', 'judge'],
        prices: { good: { input: 10, output: 30 }, ok: { input: 1, output: 2 }, bad: { input: 0.1, output: 0.2 }, judge: { input: 1, output: 1 } },
      },
    ]);

  it('profile - interrupted, then resumed: no upstream call is made twice, and the labels are what the judge saw', async () => {
    const out = path.join(dir, 'pool.jsonl');
    const args = ['--prompts', path.join(dir, 'prompts.jsonl'), '--out', out, '--judge', 'judge', '--concurrency', '2', '--quiet'];
    const lines: string[] = [];
    const io = { env: { MOMA_PROVIDERS: providers() }, out: (l: string) => void lines.push(l), err: (l: string) => void lines.push(l) };
    // Without --yes and with nobody to ask, nothing is sent.
    expect(await runProfile(args, { ...io, confirm: async () => false })).toBe(2);
    expect(fake.calls()).toBe(0);
    expect(lines.join('\n')).toMatch(/24 prompts: 72 answers \(0 already cached\) and up to 168 judge calls; at most \$/);

    controller = new AbortController();
    abortAfter = 40;
    expect(await runProfile([...args, '--yes'], { ...io, signal: controller.signal })).toBe(1);
    expect(lines.join('\n')).toMatch(/interrupted .*run the same command again to continue/);
    const afterFirst = fake.calls();
    expect(afterFirst).toBeGreaterThanOrEqual(40);
    expect(afterFirst).toBeLessThan(72 + 100);

    abortAfter = Infinity;
    lines.length = 0;
    expect(await runProfile([...args, '--yes'], io)).toBe(0);
    // 72 answers, each pair of answers judged in both orders, and 8 references × 3 grades; each distinct call is
    // made exactly once over both runs (two answers alike give one judge prompt for both orders).
    const asked = fake.requests.map((r) => `${r.model}\u0000${JSON.stringify(r.messages)}`);
    expect(new Set(asked).size).toBe(asked.length);
    const judged = fake.requests.filter((r) => r.model === 'judge');
    expect(fake.requests.filter((r) => r.model !== 'judge')).toHaveLength(72);
    const distinctAnswers = Array.from({ length: N }, (_, i) => i)
      .filter((i) => i % 3 === 0)
      .reduce((n, i) => n + new Set(['good', 'ok', 'bad'].map((m) => answerOf(m, i))).size, 0);
    expect(judged.filter((r) => r.messages[0]!.content.includes('[Reference answer]'))).toHaveLength(distinctAnswers);
    const pairPrompts = new Set(
      Array.from({ length: N }, (_, i) =>
        [['good', 'ok'], ['good', 'bad'], ['ok', 'bad']].flatMap(([a, b]) => [`${i}|${answerOf(a!, i)}|${answerOf(b!, i)}`, `${i}|${answerOf(b!, i)}|${answerOf(a!, i)}`]),
      ).flat(),
    );
    expect(judged.length, lines.join('\n')).toBe(distinctAnswers + pairPrompts.size);
    expect(lines.join('\n')).toMatch(new RegExp(`${fake.calls() - afterFirst} upstream calls this run`));

    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(N);
    for (const r of rows) {
      const i = Number(r.id.slice(1));
      const pair = (a: string, b: string) => r.judgements.find((j: { a: string; b: string }) => j.a === a && j.b === b)?.label;
      expect(pair('good', 'bad')).toBe('a>>b');
      expect(pair('good', 'ok')).toBe(i % 2 === 0 ? 'a=b' : 'a>>b');
      expect(pair('ok', 'bad')).toBe(i % 2 === 0 ? 'a>>b' : 'a=b');
      expect(r.judgements[0]).toMatchObject({ judge: 'judge', prompt_version: 'pairwise-v1' });
      if (r.reference !== undefined) expect(r.scores).toEqual({ good: 1, ok: i % 2 === 0 ? 1 : 0, bad: 0 });
      else expect(r.scores.good).toBeGreaterThan(r.scores.bad);
      expect(r.cost_usd.good).toBeGreaterThan(r.cost_usd.bad);
      expect(r.responses.bad).toBe('The answer is 0.');
    }
  }, 60_000);

  it('profile - the data trains an artifact that moma publish hot-loads into a running scoring service', async () => {
    const artifact = path.join(dir, 'artifact');
    expect(await runTrain(['--data', path.join(dir, 'pool.jsonl'), '--out', artifact, '--name', 'pool', '--dim', '256', '--quiet'])).toBe(0);
    const bus = new MemoryBus();
    const scoring = await startScoring({ name: 'scoring', bus, store: new MemoryStore(), logger: createLogger('scoring', { level: 'silent' }) }, { MOMA_ARTIFACT_DIR: DEFAULT_ARTIFACT_DIR });
    try {
      const client = stageClient(bus, ScoringStageDefinition);
      expect((await client.listModels({})).models.map((m) => m.id)).not.toContain('good');
      expect(await runPublish(['--artifact', artifact], { out: () => undefined, err: () => undefined, connect: async () => bus.connect() })).toBe(0);
      await expect.poll(async () => (await client.listModels({})).models.map((m) => m.id).sort(), { timeout: 10_000 }).toEqual(['bad', 'good', 'ok']);
      const ranked = await client.score({ text: 'What is 40 + 41?', context: [], options: { mode: 1, allowedModels: [], deniedModels: [], disableAgents: false, tenant: '', requires: [] } });
      expect(ranked.ranked.length).toBe(3);
    } finally {
      await scoring.stop();
    }
  }, 120_000);

  it('pool add - a model the router was not trained on is profiled on anchors and routable at once, without restarting anything', async () => {
    // The router is trained on ok and bad only; good joins later.
    const rows = readFileSync(path.join(dir, 'pool.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const without = (rec: Record<string, unknown> | undefined) => rec && Object.fromEntries(Object.entries(rec).filter(([k]) => k !== 'good'));
    const twoModels = rows.map((r) => ({
      ...r,
      scores: without(r.scores),
      tokens: without(r.tokens),
      cost_usd: without(r.cost_usd),
      responses: without(r.responses),
      judgements: r.judgements.filter((j: { a: string; b: string }) => j.a !== 'good' && j.b !== 'good'),
    }));
    const anchors = path.join(dir, 'two-models.jsonl');
    writeFileSync(anchors, twoModels.map((r) => JSON.stringify(r)).join('\n'));
    const artifact = path.join(dir, 'two');
    expect(await runTrain(['--data', anchors, '--out', artifact, '--name', 'two', '--dim', '256', '--quiet'])).toBe(0);

    const bus = new MemoryBus();
    const scoring = await startScoring({ name: 'scoring', bus, store: new MemoryStore(), logger: createLogger('scoring', { level: 'silent' }) }, { MOMA_ARTIFACT_DIR: artifact });
    try {
      const client = stageClient(bus, ScoringStageDefinition);
      expect((await client.listModels({})).models.map((m) => m.id).sort()).toEqual(['bad', 'ok']);
      const before = fake.calls();
      const lines: string[] = [];
      const io = { env: { MOMA_PROVIDERS: providers() }, out: (l: string) => void lines.push(l), err: (l: string) => void lines.push(l) };
      const onboarded = path.join(dir, 'three');
      expect(await runPool(['add', 'good', '--artifact', artifact, '--anchors', anchors, '--judge', 'judge', '--budget', '12', '--out', onboarded, '--yes', '--quiet'], io), lines.join('\n')).toBe(0);
      expect(lines.join('\n')).toMatch(/onboarded good from 12 anchors .*cross-validated MAE/);
      // Only the new model and the judge were asked: ok's and bad's answers came from the anchors.
      const asked = fake.requests.slice(before).map((r) => r.model);
      expect(new Set(asked)).toEqual(new Set(['good', 'judge']));
      expect(asked.filter((m) => m === 'good')).toHaveLength(12);
      expect(await runPublish(['--artifact', onboarded], { out: () => undefined, err: () => undefined, connect: async () => bus.connect() })).toBe(0);
      await expect.poll(async () => (await client.listModels({})).models.map((m) => m.id).sort(), { timeout: 10_000 }).toEqual(['bad', 'good', 'ok']);
      const res = await client.score({ text: 'What is 50 + 51?', context: [], options: { mode: 1, allowedModels: [], deniedModels: [], disableAgents: false, tenant: '', requires: [] } });
      const q = Object.fromEntries(res.ranked.map((c) => [c.target!.id, c.predictedQuality]));
      expect(q.good).toBeGreaterThan(q.bad!);
      // Removing it again: an onboarded model is dropped from the pool.
      const removed = path.join(dir, 'two-again');
      expect(await runPool(['remove', 'good', '--artifact', onboarded, '--out', removed], io)).toBe(0);
      expect(await runPublish(['--artifact', removed], { out: () => undefined, err: () => undefined, connect: async () => bus.connect() })).toBe(0);
      await expect.poll(async () => (await client.listModels({})).models.map((m) => m.id).sort(), { timeout: 10_000 }).toEqual(['bad', 'ok']);
      expect(await runPool(['add', 'ok', '--artifact', artifact, '--anchors', anchors, '--judge', 'judge'], io)).toBe(2); // already in the pool
    } finally {
      await scoring.stop();
    }
  }, 120_000);
});
