import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { agentIndexFromState, calibrateThreshold, fitAgentIndex, indexTexts, thresholdMetrics, type AgentIndexOptions, type AgentSpec, type CalibrationSample, type Taxonomy } from '@moma/core';
import { withoutFullEncoder, type SemanticSource } from './encoders.ts';
import { EvalInputError } from './errors.ts';

interface Row {
  split: 'train' | 'val' | 'test';
  text: string;
  intent: string;
  domain: string | null;
  oos: boolean;
}

/** Rejection (agent-or-LLM) figures; only when val and test both have out-of-scope rows. */
export interface ClincRejection {
  /** Threshold calibrated on val. */
  threshold: number;
  /** In-scope test queries accepted with the right agent. */
  inScopeAccuracy: number;
  oosRecall: number;
  oosPrecision: number;
  val: { inScopeAccuracy: number; oosRecall: number };
}

/**
 * Rejection on score + β·support (the semantic cosine to the best agent's nearest card text; 1 on the fast path,
 * where the lexical expert was sure): β and the threshold are both chosen on val (in-scope accuracy + OOS recall).
 */
export interface ClincSupportRejection extends ClincRejection {
  beta: number;
}

export interface ClincMetrics {
  /** The file evaluated. */
  file: string;
  /** Split scored (the threshold, if any, is calibrated on val). */
  split: 'test';
  agents: number;
  categories: number;
  testInScope: number;
  testOos: number;
  valOos: number;
  inScopeAccuracyNoReject: number;
  /** Top-1 category (domain) accuracy on in-scope test queries. */
  domainAccuracy: number;
  /** null when the data has no out-of-scope rows to calibrate on or to score: no threshold, no OOS recall. */
  rejection: ClincRejection | null;
  /** With a semantic encoder and OOS rows: rejection on the score combined with the semantic support; null otherwise. */
  rejectionSupport: ClincSupportRejection | null;
  /** Seed of the softmax head's training. */
  seed: number;
  fitSeconds: number;
  /** 'lexical', or the semantic encoder's id (--encoder use). */
  encoder: string;
  /** With a semantic encoder: whether the joint reranker answered after the experts' product. */
  jointReranker?: boolean;
  /** With a semantic encoder: share of test queries answered without the full encoder (paths fast, fast-reject and static); null without. */
  fastPathShare: number | null;
  /** With a semantic encoder: share of test queries the static expert answered (path static; part of fastPathShare); null without. */
  staticPathShare: number | null;
}

export const CLINC_FILE = 'clinc150.jsonl';
/** Weights of the semantic support tried on val (0 = the score alone). */
const SUPPORT_BETAS = [0, 0.5, 1, 1.5, 2, 3];

/** The CLINC file from --clinc: the file itself or the folder that holds clinc150.jsonl. */
export function resolveClincFile(path: string): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new EvalInputError(`--clinc: no such file or folder: ${path}`);
  if (!statSync(abs).isDirectory()) return abs;
  const f = join(abs, CLINC_FILE);
  if (!existsSync(f)) throw new EvalInputError(`--clinc: no ${CLINC_FILE} in ${abs}`);
  return f;
}

const SPLITS = new Set(['train', 'val', 'test']);

export function loadClinc(path: string): Row[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new EvalInputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const rows: Row[] = [];
  text.split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    let r: Row;
    try {
      r = JSON.parse(l) as Row;
    } catch {
      throw new EvalInputError(`${path}:${i + 1}: not valid JSON`);
    }
    if (!r || !SPLITS.has(r.split) || typeof r.text !== 'string' || typeof r.intent !== 'string') {
      throw new EvalInputError(`${path}:${i + 1}: expected {split: train|val|test, text, intent, domain, oos}`);
    }
    rows.push({ ...r, oos: r.oos === true || r.intent === 'oos', domain: r.domain ?? null });
  });
  return rows;
}

/** The 150 intents become agents whose only skill lists their train utterances; the 10 domains are the taxonomy. */
export function clincAgents(rows: readonly Row[]): { agents: AgentSpec[]; taxonomy: Taxonomy } {
  const byIntent = new Map<string, { domain: string; examples: string[] }>();
  for (const r of rows) {
    if (r.split !== 'train' || r.oos || !r.domain) continue;
    const e = byIntent.get(r.intent) ?? { domain: r.domain, examples: [] };
    e.examples.push(r.text);
    byIntent.set(r.intent, e);
  }
  const agents: AgentSpec[] = [...byIntent.entries()].map(([intent, e]) => ({
    id: intent,
    tenants: [],
    healthy: true,
    card: {
      name: intent,
      description: '',
      url: `http://agents.local/${intent}`,
      version: '1.0.0',
      skills: [{ id: intent, name: intent, description: '', tags: [e.domain], examples: e.examples }],
    },
  }));
  const domains = new Map<string, string[]>();
  for (const [intent, e] of byIntent) domains.set(e.domain, [...(domains.get(e.domain) ?? []), intent]);
  const taxonomy: Taxonomy = {
    categories: [...domains.entries()].map(([id, agentIds]) => ({ id, description: id.replace(/_/g, ' '), agentIds })),
  };
  return { agents, taxonomy };
}

/** Every text a CLINC evaluation embeds: the agents' and categories' texts, then the val and test queries. */
export function clincTexts(rows: readonly Row[]): string[] {
  const { agents, taxonomy } = clincAgents(rows);
  return [...new Set([...indexTexts(agents, taxonomy), ...rows.filter((r) => r.split !== 'train').map((r) => r.text)])];
}

/** evalClinc with the semantic expert: every text is embedded first (through the vector cache), then looked up. */
export async function evalClincSemantic(path: string, src: SemanticSource, options: AgentIndexOptions = {}, log: (m: string) => void = () => {}): Promise<ClincMetrics> {
  const file = resolveClincFile(path);
  const rows = loadClinc(file);
  const texts = clincTexts(rows);
  const s = await src.ensure(texts, 'clinc');
  log(`clinc: ${s.texts} texts (${s.hits} from the vector cache, ${s.embedded} embedded in ${s.seconds.toFixed(1)} s)`);
  return evalClincRows(file, rows, { ...options, semantic: src.lookup(texts), semanticSupport: true }, log);
}

export function evalClinc(path: string, options: AgentIndexOptions = {}, log: (m: string) => void = () => {}): ClincMetrics {
  const file = resolveClincFile(path);
  return evalClincRows(file, loadClinc(file), options, log);
}

function evalClincRows(file: string, rows: readonly Row[], options: AgentIndexOptions, log: (m: string) => void): ClincMetrics {
  const { agents, taxonomy } = clincAgents(rows);
  if (agents.length < 2) throw new EvalInputError(`${file}: needs in-scope train rows of at least 2 intents (found ${agents.length})`);
  const testRows = rows.filter((r) => r.split === 'test');
  const valRows = rows.filter((r) => r.split === 'val');
  if (!testRows.some((r) => !r.oos)) throw new EvalInputError(`${file}: no in-scope test rows to score`);
  log(`clinc: fitting ${agents.length} agents from ${file}`);
  const t0 = performance.now();
  const state = fitAgentIndex(agents, taxonomy, options);
  const fitSeconds = (performance.now() - t0) / 1000;
  const index = agentIndexFromState(state, agents, options);
  // without rejection every query goes to an agent, so nothing is rejected early either
  const forced = options.semantic ? agentIndexFromState(state, agents, { ...options, fastReject: 0 }) : index;
  type Sample = CalibrationSample & { cat: string; fast: boolean; static: boolean; rejectedEarly: boolean; support: number };
  const sample = (r: Row): Sample => {
    const c = index.classify(r.text);
    const top = c.candidates[0];
    // support: 1 where the lexical expert (alone or with the static one) was sure of an agent, 0 where it was sure there is none
    const support = c.path === 'fast-reject' ? 0 : (c.support ?? 1);
    return { score: top?.score ?? 0, inScope: !r.oos, correct: !r.oos && top?.agentId === r.intent, cat: c.categories[0]?.category ?? '', fast: withoutFullEncoder(c), static: c.path === 'static', rejectedEarly: c.path === 'fast-reject', support };
  };
  const rejectionOf = (val: readonly CalibrationSample[], test: readonly CalibrationSample[]): ClincRejection => {
    const cal = calibrateThreshold(val);
    const m = thresholdMetrics(test, cal.threshold);
    const rejectedOos = test.filter((s) => !s.inScope && s.score < cal.threshold).length;
    const rejected = test.filter((s) => s.score < cal.threshold).length;
    return {
      threshold: cal.threshold,
      inScopeAccuracy: m.inScopeAccuracy,
      oosRecall: m.oosRecall,
      oosPrecision: rejected ? rejectedOos / rejected : 0,
      val: { inScopeAccuracy: cal.inScopeAccuracy, oosRecall: cal.oosRecall },
    };
  };
  log('clinc: scoring test');
  const test = testRows.map(sample);
  const ins = test.filter((s) => s.inScope);
  // only the queries rejected early answer differently with nothing rejected early
  const insForced = testRows.filter((_, i) => test[i]!.inScope).map((r, i) => (ins[i]!.rejectedEarly ? forced.classify(r.text).candidates[0]?.agentId === r.intent : ins[i]!.correct));
  const testOos = test.length - ins.length;
  const valOos = valRows.filter((r) => r.oos).length;
  let rejection: ClincRejection | null = null;
  let rejectionSupport: ClincSupportRejection | null = null;
  if (testOos > 0 && valOos > 0) {
    log('clinc: calibrating the rejection threshold on val');
    const val = valRows.map(sample);
    rejection = rejectionOf(val, test);
    if (options.semantic) {
      const combine = (xs: readonly Sample[], beta: number): CalibrationSample[] => xs.map((s) => ({ ...s, score: s.score + beta * s.support }));
      let best: { beta: number; sum: number } | null = null;
      for (const beta of SUPPORT_BETAS) {
        const c = calibrateThreshold(combine(val, beta));
        if (!best || c.inScopeAccuracy + c.oosRecall > best.sum) best = { beta, sum: c.inScopeAccuracy + c.oosRecall };
      }
      rejectionSupport = { beta: best!.beta, ...rejectionOf(combine(val, best!.beta), combine(test, best!.beta)) };
    }
  }
  let domOk = 0;
  testRows.forEach((r, i) => {
    if (!r.oos && test[i]!.cat === r.domain) domOk++;
  });
  return {
    file,
    split: 'test',
    agents: agents.length,
    categories: taxonomy.categories.length,
    testInScope: ins.length,
    testOos,
    valOos,
    inScopeAccuracyNoReject: insForced.filter(Boolean).length / ins.length,
    domainAccuracy: domOk / ins.length,
    rejection,
    rejectionSupport,
    seed: (options.head || undefined)?.seed ?? 7,
    fitSeconds,
    encoder: options.semantic?.id ?? 'lexical',
    ...(index.jointReranker !== undefined ? { jointReranker: index.jointReranker } : {}),
    fastPathShare: options.semantic ? test.filter((s) => s.fast).length / test.length : null,
    staticPathShare: options.semantic ? test.filter((s) => s.static).length / test.length : null,
  };
}
