import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { evalClinc, evalClincSemantic, resolveClincFile } from './clinc.ts';
import { defaultCacheDir } from './cache.ts';
import { ENCODERS, parseEncoder, semanticSource, type EncoderName, type SemanticSourceOptions } from './encoders.ts';
import { EvalInputError } from './errors.ts';
import { formatClinc, formatResult, formatSgd, type EvalAgentsResult } from './format.ts';
import { DEFAULT_SEED, evalSgd } from './sgd.ts';
import { resolveSgdLayout, SGD_SPLITS } from './sgd-data.ts';

export type { EvalAgentsResult } from './format.ts';
export { EvalInputError } from './errors.ts';

const USAGE = `usage: moma eval-agents [--clinc PATH] [--sgd DIR [--split dev|test] [--no-sgdx]] [--encoder ${ENCODERS.join('|')} [--fast-path X] [--fast-reject X] [--static-path X]] [--seed N] [--no-cache] [--quiet] [--json]
  --clinc PATH   CLINC150 clinc150.jsonl, or the folder that holds it
  --sgd DIR      Schema-Guided Dialogue in the upstream layout: a split folder (schema.json + dialogues_*.json[.gz]),
                 or a root with <split>/ (or raw/<split>/) under it; train/ must sit beside the split
  --split S      SGD split to evaluate: ${SGD_SPLITS.join(' or ')} (default: the folder's name, else dev)
  --no-sgdx      skip the SGD-X schema variants (sgd_x/v1..v5/<split>/schema.json)
  --encoder E    lexical (default): the hashed n-gram index alone; use: add the Universal Sentence Encoder as a second
                 expert (every text is embedded once with the full model and kept in the vector cache)
  --fast-path X  with use, CLINC150: the lexical expert's top probability from which it answers alone, without the
                 encoder (default 0.7; above 1 = never: every query through both experts)
  --fast-reject X  with use: the lexical pass's best agent score below which a query is out of scope without the
                 encoder (default: 0.1 over cards with at least 10 texts per agent, else 0 = off)
  --static-path X  with use: add the middle path, the lexical expert with the encoder's static distillation, which
                 answers without the full encoder from this best agent score (0.8 suggested; default off, as in
                 the intent service; above 1 = off)
  --seed N       seed of the classifier and shift-detector training (default ${DEFAULT_SEED})
  --no-cache     refit the SGD policy even when a fit for the same inputs is cached, and with --encoder use re-embed
                 every text (nothing is read from or written to the cache)
  --quiet, -q    no progress output on stderr
  --json         one JSON object instead of tables
At least one of --clinc and --sgd is needed. Bad input exits with 2.`;

function progress(msg: string): void {
  process.stderr.write(`[eval-agents] ${msg}\n`);
}

export interface EvaluateOptions {
  clinc?: string;
  sgd?: string;
  split?: string;
  seed?: number;
  /** Run the SGD-X variants (default true). */
  sgdx?: boolean;
  /** Folder of cached SGD fits and sentence vectors; null disables the cache. Default: defaultCacheDir(). */
  cacheDir?: string | null;
  /** 'lexical' (default) or 'use' (the sentence encoder as a second expert). */
  encoder?: EncoderName;
  /** With a semantic encoder: AgentIndexOptions.fastReject (default: the index's). */
  fastReject?: number;
  /** With a semantic encoder, CLINC150: AgentIndexOptions.fastPath (default: the index's, 0.7). */
  fastPath?: number;
  /** With a semantic encoder: turns the static expert on at this AgentIndexOptions.staticPath (default off; above 1 = off). */
  staticPath?: number;
  /** Tests: a stand-in for the sentence encoder. */
  semanticModel?: SemanticSourceOptions['model'];
}

/** Runs the CLINC150 and/or SGD evaluations. Paths are checked before anything is fitted. */
export async function evaluateAgents(opts: EvaluateOptions, log: (m: string) => void = progress): Promise<EvalAgentsResult> {
  if (opts.split !== undefined && opts.sgd === undefined) throw new EvalInputError('--split applies to --sgd only');
  const clinc = opts.clinc !== undefined ? resolveClincFile(opts.clinc) : undefined;
  const sgd = opts.sgd !== undefined ? resolveSgdLayout(opts.sgd, opts.split) : undefined;
  const seed = opts.seed ?? DEFAULT_SEED;
  const cacheDir = opts.cacheDir === undefined ? defaultCacheDir() : opts.cacheDir;
  const src = await semanticSource(opts.encoder ?? 'lexical', { cacheDir, log, ...(opts.semanticModel ? { model: opts.semanticModel } : {}) });
  if (opts.fastReject !== undefined && !src) throw new EvalInputError('--fast-reject applies with --encoder use only');
  const fastReject = opts.fastReject !== undefined ? { fastReject: opts.fastReject } : {};
  if (opts.fastPath !== undefined && (!src || !clinc)) throw new EvalInputError('--fast-path applies to --clinc with --encoder use only');
  const fastPath = opts.fastPath !== undefined ? { fastPath: opts.fastPath } : {};
  if (opts.staticPath !== undefined && !src) throw new EvalInputError('--static-path applies with --encoder use only');
  // the static distillation as the middle expert, when asked for (as MOMA_AGENT_STATIC_PATH in the intent service)
  const staticOpts = src && opts.staticPath !== undefined && opts.staticPath <= 1 ? { staticSemantic: await (await import('@moma/semantic')).loadStaticEncoder(), staticPath: opts.staticPath } : {};
  const out: EvalAgentsResult = {};
  try {
    if (clinc) out.clinc = src ? await evalClincSemantic(clinc, src, { head: { seed }, ...fastReject, ...fastPath, ...staticOpts }, log) : evalClinc(clinc, { head: { seed } }, log);
    // (SGD's description-only cards are under the static expert's 10 texts per agent: it is not fitted there)
    if (sgd) out.sgd = await evalSgd(sgd, { seed, sgdx: opts.sgdx ?? true, cacheDir, log, ...(src ? { semantic: src } : {}), ...fastReject });
  } finally {
    src?.dispose();
  }
  return out;
}

export interface EvalAgentsIo {
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
  /** Overrides the cache folder (tests). */
  cacheDir?: string | null;
  /** Tests: a stand-in for the sentence encoder behind --encoder use. */
  semanticModel?: SemanticSourceOptions['model'];
}

function parseSeed(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw new EvalInputError(`--seed must be an integer from 0 to ${0xffffffff} (got "${s}")`);
  return Number(s);
}

function parseFastReject(s: string): number {
  const x = Number(s);
  if (s.trim() === '' || !(x >= 0 && x < 1)) throw new EvalInputError(`--fast-reject must be a number in [0, 1) (got "${s}")`);
  return x;
}

function parseBar(flag: string, s: string): number {
  const x = Number(s);
  if (s.trim() === '' || !(x >= 0 && Number.isFinite(x))) throw new EvalInputError(`--${flag} must be a number ≥ 0 (got "${s}")`);
  return x;
}

/** `moma eval-agents ...`: prints one JSON object with --json, otherwise readable tables. Returns the exit code. */
export async function runEvalAgents(argv: string[], io: EvalAgentsIo = {}): Promise<number> {
  const stdout = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const stderr = io.stderr ?? ((s: string) => void process.stderr.write(s));
  const usageError = (msg: string): number => {
    stderr(`eval-agents: ${msg}\n${USAGE}\n`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        clinc: { type: 'string' },
        sgd: { type: 'string' },
        split: { type: 'string' },
        seed: { type: 'string' },
        encoder: { type: 'string' },
        'fast-reject': { type: 'string' },
        'fast-path': { type: 'string' },
        'static-path': { type: 'string' },
        sgdx: { type: 'boolean', default: true },
        cache: { type: 'boolean', default: true },
        quiet: { type: 'boolean', short: 'q', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    }));
  } catch (e) {
    return usageError((e as Error).message);
  }
  if (values.help) {
    stdout(`${USAGE}\n`);
    return 0;
  }
  if (values.clinc === '' || values.sgd === '') return usageError(`--${values.clinc === '' ? 'clinc' : 'sgd'} needs a path`);
  if (values.clinc === undefined && values.sgd === undefined) return usageError('give --clinc PATH and/or --sgd DIR');
  const log = values.quiet ? () => {} : (m: string) => stderr(`[eval-agents] ${m}\n`);
  try {
    const r = await evaluateAgents(
      {
        encoder: parseEncoder(values.encoder),
        ...(values.clinc !== undefined ? { clinc: values.clinc } : {}),
        ...(values.sgd !== undefined ? { sgd: values.sgd } : {}),
        ...(values.split !== undefined ? { split: values.split } : {}),
        ...(values.seed !== undefined ? { seed: parseSeed(values.seed)! } : {}),
        ...(values['fast-reject'] !== undefined ? { fastReject: parseFastReject(values['fast-reject']) } : {}),
        ...(values['fast-path'] !== undefined ? { fastPath: parseBar('fast-path', values['fast-path']) } : {}),
        ...(values['static-path'] !== undefined ? { staticPath: parseBar('static-path', values['static-path']) } : {}),
        sgdx: values.sgdx,
        cacheDir: !values.cache ? null : io.cacheDir !== undefined ? io.cacheDir : defaultCacheDir(),
        ...(io.semanticModel ? { semanticModel: io.semanticModel } : {}),
      },
      log,
    );
    stdout(values.json ? `${JSON.stringify(r)}\n` : `${formatResult(r)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof EvalInputError) {
      stderr(`eval-agents: ${e.message}\n(moma eval-agents --help for usage)\n`);
      return 2;
    }
    stderr(`eval-agents failed: ${(e as Error).message}\n`);
    return 1;
  }
}

/** Regenerates docs/results/agents/*.md (called by `moma docs`). */
export async function writeAgentDocs(opts: { clinc?: string; sgd?: string; outDir: string }): Promise<void> {
  writeAgentResultDocs(await evaluateAgents({ ...(opts.clinc ? { clinc: opts.clinc } : {}), ...(opts.sgd ? { sgd: opts.sgd } : {}) }), opts);
}

/** Writes the result pages for figures already computed (paths shown relative to the working directory). */
export function writeAgentResultDocs(r: EvalAgentsResult, opts: { outDir: string }): void {
  mkdirSync(opts.outDir, { recursive: true });
  const base = process.cwd();
  const rel = (p: string) => relative(base, p) || '.';
  const cmd = (args: string) => `\`pnpm moma eval-agents ${args}\``;
  if (r.clinc) {
    writeFileSync(
      join(opts.outDir, 'clinc150.md'),
      `# Agent routing on CLINC150\n\nRegenerated by \`pnpm moma docs\`; the same figures: ${cmd(`--clinc ${rel(r.clinc.file)}`)}.\nMethod: [agent-routing.md](../../agent-routing.md).\n\n${formatClinc(r.clinc, { base })}\n`,
    );
  }
  if (r.sgd) {
    writeFileSync(
      join(opts.outDir, 'sgd.md'),
      `# Agent routing on SGD ${r.sgd.split}\n\nRegenerated by \`pnpm moma docs\`; the same figures: ${cmd(`--sgd ${rel(r.sgd.dir)} --split ${r.sgd.split}`)}.\nMethod: [agent-routing.md](../../agent-routing.md).\n\n${formatSgd(r.sgd, { base, cacheNote: false })}\n`,
    );
  }
}
