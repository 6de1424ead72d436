// `moma profile`: the command around profile.ts (arguments, the provider config, the estimate prompt, the output).
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { progressBar } from '../progress.ts';
import { readProviders, UsageError } from '../providers.ts';
import { profile, readPrompts, selectPrompts, PAIRWISE_PROMPT_VERSION, POINTWISE_PROMPT_VERSION, type ProfileEstimate } from './profile.ts';

const USAGE = `usage: moma profile --prompts PATH [--prompts PATH ...] --out FILE --judge MODEL [options]

  Profiles your pool for the router: picks representative prompts, has every model answer them, has the judge
  compare each pair of answers (both orders) into a≫b, a>b, a≈b, a<b, a≪b and grade answers against a reference
  where the prompt has one, and writes routing data (schemas/routing-data.schema.json) for moma train.

  --prompts PATH     JSONL file or folder; rows {prompt | messages, id?, task?, reference?, split?}
  --out FILE         the routing data to write
  --judge MODEL      the judge model (served by a configured provider)
  --models A,B,...   models to profile (default: every model the providers list by name, but the judge)
  --budget N         profile N representative prompts (diversity sampling on the encoder; default: all)
  --providers FILE   provider config (default: $MOMA_PROVIDERS or $MOMA_PROVIDERS_FILE), with per-model prices
  --concurrency N    calls in flight per provider (default 4)
  --retries N        further attempts of a call that failed with 429/5xx/timeout (default 3)
  --max-tokens N     answer length cap (default 512)
  --cache DIR        answers and verdicts on disk (default FILE.cache); a rerun continues where one stopped
  --seed N           prompt selection seed (default 7)
  --yes              start without asking (the cost estimate is still printed)
  --quiet            no progress bar
  --json             a JSON summary on stdout (rows, calls made, USD spent, the estimate, failures)
  Judge prompts: packages/cli/src/profile/judge/${PAIRWISE_PROMPT_VERSION}.md and ${POINTWISE_PROMPT_VERSION}.md (their
  version is recorded on every judgement).`;

export interface ProfileIo {
  env?: Record<string, string | undefined>;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Answers the "proceed?" question; default: ask on a terminal, refuse otherwise. */
  confirm?: (question: string) => Promise<boolean>;
  signal?: AbortSignal;
}

async function askOnTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

const describe = (e: ProfileEstimate): string =>
  `${e.prompts} prompts: ${e.answerCalls} answers (${e.cachedCalls} already cached) and up to ${e.judgeCalls} judge calls; at most $${e.maxCostUsd.toFixed(4)} for what is not cached (answers at max_tokens)`;

/** Exit code: 0 written, 1 failed (providers, an interrupted run), 2 usage error or not confirmed. */
export async function runProfile(argv: string[], io: ProfileIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const out = io.out ?? ((l: string) => console.log(l));
  const err = io.err ?? ((l: string) => console.error(l));
  let o;
  try {
    o = parseArgs({
      args: argv,
      options: {
        prompts: { type: 'string', multiple: true },
        out: { type: 'string' },
        judge: { type: 'string' },
        models: { type: 'string' },
        budget: { type: 'string', default: '0' },
        providers: { type: 'string' },
        concurrency: { type: 'string', default: '4' },
        retries: { type: 'string', default: '3' },
        'max-tokens': { type: 'string', default: '512' },
        cache: { type: 'string' },
        seed: { type: 'string', default: '7' },
        yes: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    out(USAGE);
    return 0;
  }
  const ints = { budget: Number(o.budget), concurrency: Number(o.concurrency), retries: Number(o.retries), maxTokens: Number(o['max-tokens']), seed: Number(o.seed) };
  const badInt = Object.entries(ints).find(([, v]) => !Number.isInteger(v) || v < 0);
  if (!o.prompts?.length || !o.out || !o.judge || badInt) {
    err(`${badInt ? `--${badInt[0]} must be a whole number ≥ 0\n` : ''}${USAGE}`);
    return 2;
  }
  try {
    const providers = readProviders(o.providers, env);
    if (!providers) throw new UsageError('no providers: give --providers FILE or set MOMA_PROVIDERS');
    const models = o.models
      ? o.models.split(',').map((s) => s.trim()).filter(Boolean)
      : [...new Set(providers.flatMap((p) => p.models).filter((m) => m !== '*' && m !== o.judge))];
    if (models.length < 2) throw new UsageError(`profile needs at least two models (got ${models.join(', ') || 'none'}); list them with --models`);
    const prompts = selectPrompts(readPrompts(o.prompts), ints.budget, ints.seed);
    const bar = progressBar('profile', o.quiet);
    // Ctrl-C stops gracefully: calls in flight finish and are cached, and the next run continues from there.
    let signal = io.signal;
    let onSigint: (() => void) | undefined;
    if (!signal) {
      const stop = new AbortController();
      signal = stop.signal;
      onSigint = () => {
        err('\nprofile: stopping after the calls in flight (Ctrl-C again to quit now)');
        stop.abort();
        process.once('SIGINT', () => process.exit(130));
      };
      process.once('SIGINT', onSigint);
    }
    const res = await profile({
      prompts,
      providers,
      models,
      judge: o.judge,
      cacheDir: o.cache ?? `${o.out}.cache`,
      concurrency: Math.max(1, ints.concurrency),
      retries: ints.retries,
      maxTokens: Math.max(1, ints.maxTokens),
      onProgress: bar.update,
      signal,
      confirm: async (e) => {
        err(`profile: ${describe(e)}`);
        if (o.yes || e.cachedCalls === e.answerCalls + e.judgeCalls) return true;
        return (io.confirm ?? askOnTerminal)('Proceed?');
      },
    });
    bar.stop();
    if (onSigint) process.off('SIGINT', onSigint);
    writeFileSync(o.out, `${res.rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    err(`profile: ${res.calls} upstream calls this run, $${res.spentUsd.toFixed(4)} spent; wrote ${res.rows.length} rows to ${o.out}`);
    for (const f of res.failures.slice(0, 20)) err(`profile: failed: ${f}`);
    if (o.json) out(JSON.stringify({ out: o.out, rows: res.rows.length, calls: res.calls, spent_usd: res.spentUsd, estimate: res.estimate, failures: res.failures }));
    if (res.failures.length > 20) err(`profile: … and ${res.failures.length - 20} more failures`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`moma profile: ${e.message}`);
      return 2;
    }
    const m = (e as Error).message;
    if (/not confirmed/.test(m)) {
      err('moma profile: not started (pass --yes to start without being asked)');
      return 2;
    }
    err(`moma profile: ${m}${/interrupted/.test(m) ? ' (answers so far are cached; run the same command again to continue)' : ''}`);
    return 1;
  }
}
