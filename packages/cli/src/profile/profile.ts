// `moma profile`: builds routing data that profiles the user's own pool, as the MoMA paper does. (1) Representative
// prompts are picked with the encoder (diversity sampling, --budget). (2) Every model answers them through the
// executor's provider code, with bounded concurrency per provider and retries. (3) A judge model compares every pair
// of answers twice, positions swapped, into the five classes, and grades each answer against the reference where
// one exists. (4) The rows are written in the routing-data format. Every upstream answer is cached on disk as it
// arrives, so an interrupted run continues where it stopped and never pays twice for a call.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { combineSwapped, countTokens, diversitySample, extractQuestion, HashingEncoder, scoresFromVerdicts, type PairVerdict } from '@moma/core';
import { callLlm, costUsd, ProviderRegistry, type ProviderConfig, type ResolvedModel } from '@moma/executor';
import { Code, MomaError } from '@moma/platform';
import pLimit, { type LimitFunction } from 'p-limit';
import { z } from 'zod';
import { issueText, promptOf, type RoutingDataRow } from '../data/format.ts';
import { dataFiles } from '../data/load.ts';
import { readJsonl } from '../data/read-jsonl.ts';

export const PAIRWISE_PROMPT_VERSION = 'pairwise-v1';
export const POINTWISE_PROMPT_VERSION = 'pointwise-v1';
const judgePrompt = (version: string): string => readFileSync(fileURLToPath(new URL(`./judge/${version}.md`, import.meta.url)), 'utf8');

const promptRow = z
  .object({
    id: z.string().min(1).optional(),
    prompt: z.string().min(1).optional(),
    messages: z.array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant']), content: z.string() })).min(1).optional(),
    task: z.string().min(1).optional(),
    reference: z.string().optional(),
    split: z.enum(['train', 'val', 'test']).optional(),
  })
  .loose()
  .refine((r) => r.prompt !== undefined || r.messages !== undefined, { message: 'give prompt or messages', path: ['prompt'] });

export interface PromptInput {
  id: string;
  messages: Array<{ role: string; content: string }>;
  task: string;
  reference?: string;
  split?: 'train' | 'val' | 'test';
}

/** The prompts of JSONL files or folders, validated (file, row and field named), with ids for those without. */
export function readPrompts(paths: readonly string[]): PromptInput[] {
  const out: PromptInput[] = [];
  const ids = new Set<string>();
  for (const file of paths.flatMap(dataFiles)) {
    readJsonl(file).forEach((raw, i) => {
      const res = promptRow.safeParse(raw);
      if (!res.success) throw new Error(`${file}: row ${i + 1}: ${issueText(res.error)}`);
      const r = res.data;
      const messages = r.messages ?? [{ role: 'user', content: r.prompt! }];
      const id = r.id ?? `p-${sha256(JSON.stringify(messages)).slice(0, 16)}`;
      if (ids.has(id)) return; // the same prompt twice is profiled once
      ids.add(id);
      out.push({ id, messages, task: r.task ?? 'default', ...(r.reference !== undefined ? { reference: r.reference } : {}), ...(r.split ? { split: r.split } : {}) });
    });
  }
  if (out.length === 0) throw new Error('no prompts to profile');
  return out;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Up to `budget` prompts spread over what the prompts are about (all when budget is 0 or larger than the set). */
export function selectPrompts(prompts: readonly PromptInput[], budget: number, seed: number): PromptInput[] {
  if (budget <= 0 || budget >= prompts.length) return [...prompts];
  const texts = prompts.map((p) => extractQuestion(promptOf(p)));
  const encoder = HashingEncoder.fit(texts, { dim: 512, wordNgrams: 2, charNgrams: [3, 5] });
  const X = new Float32Array(prompts.length * encoder.dim);
  texts.forEach((t, i) => X.set(encoder.encode(t), i * encoder.dim));
  return diversitySample(X, prompts.length, encoder.dim, budget, seed).map((i) => prompts[i]!);
}

/** Answers and verdicts kept on disk, one file per call, keyed by everything that determines the call. */
class CallCache {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }
  #file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }
  has(key: string): boolean {
    return existsSync(this.#file(key));
  }
  get<T>(key: string): T | undefined {
    const f = this.#file(key);
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as T) : undefined;
  }
  put(key: string, value: unknown): void {
    // Written whole then renamed: an interrupted write never leaves a half entry that a resumed run would trust.
    const tmp = `${this.#file(key)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, this.#file(key));
  }
}

export interface Answer {
  text: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface ProfileOptions {
  prompts: PromptInput[];
  providers: ProviderConfig[];
  /** Models to profile (at least two for pairwise judging). */
  models: string[];
  /** The judge model (pairwise verdicts and grades against references). */
  judge: string;
  cacheDir: string;
  /** In flight per provider. */
  concurrency: number;
  /** Further attempts of a failed retryable call. */
  retries: number;
  maxTokens: number;
  /** Stops the run gracefully: no new call starts, the calls in flight finish and are cached, then it rejects. */
  signal?: AbortSignal;
  onProgress?: (step: string, done: number, total: number) => void;
  /** Called once before any upstream call, with the estimate; false stops the run. */
  confirm?: (estimate: ProfileEstimate) => Promise<boolean>;
  timeoutMs?: number;
  /** Answers already on record (prompt id → model → answer): used as they are, never asked for again. */
  known?: ReadonlyMap<string, ReadonlyMap<string, Answer>>;
  /** Judge only the pairs with this model (onboarding one model against a profiled pool). */
  focus?: string;
}

export interface ProfileEstimate {
  prompts: number;
  answerCalls: number;
  judgeCalls: number;
  cachedCalls: number;
  /** Upper bound for the calls not yet cached: every answer at max_tokens. */
  maxCostUsd: number;
}

export interface ProfileResult {
  rows: RoutingDataRow[];
  estimate: ProfileEstimate;
  /** Upstream calls made by this run (cached ones are not). */
  calls: number;
  spentUsd: number;
  /** Calls that failed after their retries (their scores or verdicts are missing). */
  failures: string[];
}

const VERDICT = /\[\[(A>>B|A>B|A=B|B>A|B>>A)\]\]/g;
const FROM_TEXT: Record<string, PairVerdict> = { 'A>>B': 'a>>b', 'A>B': 'a>b', 'A=B': 'a=b', 'B>A': 'a<b', 'B>>A': 'a<<b' };
const GRADE = /\[\[(\d{1,2})\]\]/g;

function lastMatch(re: RegExp, text: string): string | undefined {
  let m: RegExpExecArray | null;
  let last: string | undefined;
  re.lastIndex = 0;
  while ((m = re.exec(text)) !== null) last = m[1];
  return last;
}

const fill = (template: string, vars: Record<string, string>): string => template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => vars[k] ?? '');
const JUDGE_OUTPUT_TOKENS = 200;

export async function profile(opts: ProfileOptions): Promise<ProfileResult> {
  const registry = new ProviderRegistry(opts.providers, { timeoutMs: opts.timeoutMs ?? 120_000 });
  const knownOnly = (model: string) => opts.known !== undefined && opts.prompts.every((p) => opts.known!.get(p.id)?.has(model));
  const deployment = (model: string): ResolvedModel => {
    const d = registry.resolve(model)[0];
    if (d) return d;
    // A model whose every answer is on record needs no provider: it is never called.
    if (knownOnly(model)) return { provider: '(on record)', model, baseUrl: '', client: undefined as never, upstreamModel: model, price: { input: 0, output: 0 }, post: undefined as never, secrets: [] };
    throw new Error(`no configured provider serves "${model}" (MOMA_PROVIDERS lists the models each provider serves)`);
  };
  const models = opts.models.map(deployment);
  const judge = deployment(opts.judge);
  const cache = new CallCache(opts.cacheDir);
  const pairTemplate = judgePrompt(PAIRWISE_PROMPT_VERSION);
  const pointTemplate = judgePrompt(POINTWISE_PROMPT_VERSION);
  const answerKey = (m: ResolvedModel, p: PromptInput) => sha256(JSON.stringify({ kind: 'answer', model: m.model, messages: p.messages, maxTokens: opts.maxTokens }));

  // The estimate: every uncached call, answers at max_tokens, judge prompts with two such answers.
  const M = models.length;
  const pairs: Array<[number, number]> = [];
  for (let a = 0; a < M; a++) for (let b = a + 1; b < M; b++) if (!opts.focus || models[a]!.model === opts.focus || models[b]!.model === opts.focus) pairs.push([a, b]);
  const grades = opts.focus ? models.filter((m) => m.model === opts.focus) : models;
  const known = (p: PromptInput, m: ResolvedModel) => opts.known?.get(p.id)?.get(m.model);
  let cached = 0;
  let maxCost = 0;
  for (const p of opts.prompts) {
    const tokens = countTokens(p.messages.map((m) => m.content).join('\n'));
    for (const m of models) {
      if (known(p, m) || cache.has(answerKey(m, p))) cached++;
      else maxCost += costUsd(tokens, opts.maxTokens, m.price);
    }
    const judgeIn = tokens + 2 * opts.maxTokens + countTokens(pairTemplate);
    maxCost += 2 * pairs.length * costUsd(judgeIn, JUDGE_OUTPUT_TOKENS, judge.price);
    if (p.reference !== undefined) maxCost += grades.length * costUsd(tokens + opts.maxTokens + countTokens(p.reference) + countTokens(pointTemplate), JUDGE_OUTPUT_TOKENS, judge.price);
  }
  const judgeCalls = opts.prompts.reduce((s, p) => s + 2 * pairs.length + (p.reference !== undefined ? grades.length : 0), 0);
  const estimate: ProfileEstimate = { prompts: opts.prompts.length, answerCalls: opts.prompts.length * M, judgeCalls, cachedCalls: cached, maxCostUsd: maxCost };
  if (opts.confirm && !(await opts.confirm(estimate))) throw new MomaError(Code.FAILED_PRECONDITION, 'not confirmed; nothing was sent');

  // A bounded number of calls in flight per provider.
  const limits = new Map<string, LimitFunction>();
  const limited = <T>(provider: string, fn: () => Promise<T>): Promise<T> => {
    let limit = limits.get(provider);
    if (!limit) limits.set(provider, (limit = pLimit(Math.max(1, opts.concurrency))));
    return limit(fn);
  };
  const signal = opts.signal ?? new AbortController().signal;
  // Calls in flight are not cut off by an interruption: what they cost is kept (cached) for the next run.
  const inFlight = new AbortController().signal;
  const failures: string[] = [];
  let calls = 0;
  let spent = 0;
  let done = 0;
  const total = estimate.answerCalls + judgeCalls;
  const tick = (step: string) => opts.onProgress?.(step, ++done, total);

  /** One call through the provider code, with retries on what may pass (429, 5xx, timeouts), cached when it succeeds. */
  // The same call asked twice at once (two answers alike make the same judge prompt both ways round) is made once.
  const pending = new Map<string, Promise<Answer>>();
  const call = (m: ResolvedModel, messages: Array<{ role: string; content: string }>, key: string, maxTokens: number): Promise<Answer> => {
    const hit = cache.get<Answer>(key);
    if (hit) return Promise.resolve(hit);
    const running = pending.get(key);
    if (running) return running;
    const p = callUpstream(m, messages, key, maxTokens).finally(() => pending.delete(key));
    pending.set(key, p);
    return p;
  };
  const callUpstream = (m: ResolvedModel, messages: Array<{ role: string; content: string }>, key: string, maxTokens: number): Promise<Answer> =>
    limited(m.provider, async () => {
      for (let attempt = 0; ; attempt++) {
        if (signal.aborted) throw new MomaError(Code.CANCELLED, 'interrupted');
        let text = '';
        try {
          calls++;
          const res = await callLlm(m, { messages, maxTokens, temperature: 0, stream: false }, (d: string) => (text += d), inFlight, {
            firstTokenMs: opts.timeoutMs ?? 120_000,
            idleMs: opts.timeoutMs ?? 120_000,
            totalMs: opts.timeoutMs ?? 120_000,
          });
          const answer: Answer = { text, promptTokens: res.promptTokens, completionTokens: res.completionTokens, costUsd: costUsd(res.promptTokens, res.completionTokens, m.price) };
          spent += answer.costUsd;
          cache.put(key, answer);
          return answer;
        } catch (err) {
          const e = MomaError.from(err);
          if (!e.retryable || attempt >= opts.retries || signal.aborted) throw e;
          await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
        }
      }
    });

  // (2) Every model answers every prompt.
  const answers = new Map<string, Answer | undefined>();
  // Settled, not raced: on an interruption every call in flight still finishes (and is cached) before the run stops.
  await Promise.allSettled(
    opts.prompts.flatMap((p) =>
      models.map(async (m) => {
        try {
          answers.set(`${p.id}\u0000${m.model}`, known(p, m) ?? (await call(m, p.messages, answerKey(m, p), opts.maxTokens)));
        } catch (err) {
          if (signal.aborted) return;
          failures.push(`${m.model} on ${p.id}: ${MomaError.from(err).message}`);
          answers.set(`${p.id}\u0000${m.model}`, undefined);
        }
        tick(`answers ${m.model}`);
      }),
    ),
  );

  if (signal.aborted) throw new MomaError(Code.CANCELLED, 'interrupted');

  // (3) The judge: each pair both ways round, and each answer against the reference where there is one.
  const judgeOnce = async (key: string, prompt: string, parse: (t: string) => string | undefined, what: string): Promise<string | undefined> => {
    for (let attempt = 0; attempt <= opts.retries; attempt++) {
      const k = attempt === 0 ? key : sha256(`${key}:${attempt}`);
      try {
        const a = await call(judge, [{ role: 'user', content: prompt }], k, JUDGE_OUTPUT_TOKENS * 2);
        const v = parse(a.text);
        if (v !== undefined) return v;
      } catch (err) {
        if (signal.aborted) return undefined;
        failures.push(`judge on ${what}: ${MomaError.from(err).message}`);
        return undefined;
      }
    }
    failures.push(`judge on ${what}: no verdict in its answer`);
    return undefined;
  };
  const settled = await Promise.allSettled(
    opts.prompts.map(async (p): Promise<RoutingDataRow> => {
      const question = p.messages.map((m) => (p.messages.length > 1 ? `${m.role}: ${m.content}` : m.content)).join('\n\n');
      const ans = (m: ResolvedModel) => answers.get(`${p.id}\u0000${m.model}`);
      const verdicts: Array<{ a: string; b: string; label: PairVerdict }> = [];
      await Promise.all(
        pairs.map(async ([ia, ib]) => {
          const [a, b] = [models[ia]!, models[ib]!];
          const [A, B] = [ans(a), ans(b)];
          const read = async (first: Answer, second: Answer, tag: string) => {
            const prompt = fill(pairTemplate, { question, answer_a: first.text, answer_b: second.text });
            const key = sha256(JSON.stringify({ kind: 'pair', judge: judge.model, version: PAIRWISE_PROMPT_VERSION, prompt }));
            const v = await judgeOnce(key, prompt, (t) => lastMatch(VERDICT, t), `${p.id} ${tag}`);
            tick('judging');
            return v === undefined ? undefined : FROM_TEXT[v];
          };
          if (!A || !B) {
            tick('judging');
            tick('judging');
            return;
          }
          const [ab, ba] = await Promise.all([read(A, B, `${a.model} vs ${b.model}`), read(B, A, `${b.model} vs ${a.model}`)]);
          if (ab && ba) verdicts.push({ a: a.model, b: b.model, label: combineSwapped(ab, ba) });
        }),
      );
      const graded = new Map<string, number>();
      if (p.reference !== undefined) {
        await Promise.all(
          grades.map(async (m) => {
            const A = ans(m);
            if (!A) return tick('grading');
            const prompt = fill(pointTemplate, { question, reference: p.reference!, answer: A.text });
            const key = sha256(JSON.stringify({ kind: 'point', judge: judge.model, version: POINTWISE_PROMPT_VERSION, prompt }));
            const g = await judgeOnce(key, prompt, (t) => lastMatch(GRADE, t), `${p.id} ${m.model} against the reference`);
            tick('grading');
            if (g !== undefined) graded.set(m.model, Math.min(10, Number(g)) / 10);
          }),
        );
      }
      // (4) A model's score: its grade against the reference, else its pairwise record on this prompt.
      const answered = models.filter((m) => ans(m)).map((m) => m.model);
      const fromPairs = scoresFromVerdicts(answered, verdicts);
      const scores: Record<string, number | null> = {};
      for (const m of models) scores[m.model] = !ans(m) ? null : (graded.get(m.model) ?? (verdicts.length > 0 ? fromPairs[m.model]! : null));
      const row: RoutingDataRow = {
        id: p.id,
        ...(p.messages.length === 1 && p.messages[0]!.role === 'user' ? { prompt: p.messages[0]!.content } : { messages: p.messages as RoutingDataRow['messages'] }),
        task: p.task,
        source: 'moma profile',
        ...(p.split ? { split: p.split } : {}),
        ...(p.reference !== undefined ? { reference: p.reference } : {}),
        scores,
        tokens: Object.fromEntries(models.flatMap((m) => (ans(m) ? [[m.model, { prompt: ans(m)!.promptTokens, completion: ans(m)!.completionTokens }]] : []))),
        cost_usd: Object.fromEntries(models.flatMap((m) => (ans(m) ? [[m.model, ans(m)!.costUsd]] : []))),
        responses: Object.fromEntries(models.flatMap((m) => (ans(m) ? [[m.model, ans(m)!.text]] : []))),
        judgements: verdicts.map((v) => ({ ...v, judge: judge.model, prompt_version: PAIRWISE_PROMPT_VERSION })),
      };
      return row;
    }),
  );
  await registry.close();
  if (signal.aborted) throw new MomaError(Code.CANCELLED, 'interrupted');
  const rows = settled.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
  return { rows, estimate, calls, spentUsd: spent, failures };
}
