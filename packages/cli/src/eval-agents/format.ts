import { dirname, relative } from 'node:path';
import type { ClincMetrics } from './clinc.ts';
import type { SgdMetrics } from './sgd.ts';

export interface EvalAgentsResult {
  clinc?: ClincMetrics;
  sgd?: SgdMetrics;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** Paths as given relative to `base` (the docs use the repo root), absolute otherwise. */
export interface FormatOptions {
  base?: string;
  /** Say whether the SGD fit came from the cache (default true; the committed docs leave it out). */
  cacheNote?: boolean;
}

const show = (p: string, o: FormatOptions): string => (o.base ? relative(o.base, p) || '.' : p);

const encoderNote = (e: string, joint?: boolean): string =>
  e === 'lexical' ? 'lexical (hashed n-grams)' : `lexical + ${e} (product of experts${joint ? ' + joint reranker' : ''})`;

/** Markdown tables (also the readable terminal output), with the issue's baselines beside our figures. */
export function formatClinc(c: ClincMetrics, o: FormatOptions = {}): string {
  const r = c.rejection;
  const head = [
    `CLINC150 ${c.split} split of ${show(c.file, o)}, encoder ${encoderNote(c.encoder, c.jointReranker)}: ${c.agents} intents as agents, ${c.categories} domains as categories; ${c.testInScope} in-scope + ${c.testOos} OOS queries.`,
    r
      ? `Threshold ${r.threshold.toFixed(4)} calibrated on val (val: in-scope ${pct(r.val.inScopeAccuracy)}, OOS recall ${pct(r.val.oosRecall)}).`
      : `No rejection metrics: ${c.testOos ? 'val' : c.valOos ? 'test' : 'the data'} has no out-of-scope rows, so no threshold is calibrated and no OOS recall is reported.`,
  ];
  return [
    ...head,
    '',
    `| metric | MoMA (${c.encoder === 'lexical' ? 'lexical' : 'lexical + USE'}) | TF-IDF + LR baseline | target |`,
    '|---|---|---|---|',
    `| in-scope accuracy, no rejection | ${pct(c.inScopeAccuracyNoReject)} | 92.3% | ≥ 95% |`,
    ...(r
      ? [
          `| in-scope accuracy, with rejection | ${pct(r.inScopeAccuracy)} | 84.3% | ≥ 92% |`,
          `| OOS recall | ${pct(r.oosRecall)} | 90.9% | ≥ 90% |`,
          `| OOS precision | ${pct(r.oosPrecision)} | – | – |`,
        ]
      : []),
    ...(c.rejectionSupport
      ? [
          `| with rejection on score + ${c.rejectionSupport.beta} × semantic support (β and threshold ${c.rejectionSupport.threshold.toFixed(4)} from val): in-scope accuracy / OOS recall / OOS precision | ${pct(c.rejectionSupport.inScopeAccuracy)} / ${pct(c.rejectionSupport.oosRecall)} / ${pct(c.rejectionSupport.oosPrecision)} | 84.3% / 90.9% / – | ≥ 92% / ≥ 90% / – |`,
        ]
      : []),
    `| top-1 category (domain) accuracy | ${pct(c.domainAccuracy)} | – | – |`,
    ...(c.fastPathShare !== null ? [`| test queries answered without the full semantic encoder (the lexical expert sure of an agent or of none, or with the static expert sure of an agent: ${pct(c.staticPathShare ?? 0)}) | ${pct(c.fastPathShare)} | – | – |`] : []),
    '',
    `Index fitted in ${c.fitSeconds.toFixed(1)} s (seed ${c.seed}).`,
  ].join('\n');
}

/** The evaluated split folder, plus any other folder its dialogue files came from (dev_2019). */
function dirsNote(s: SgdMetrics, o: FormatOptions): string {
  const dirs = [s.dir, ...new Set(s.files.map((f) => dirname(f)))].filter((d, i, a) => a.indexOf(d) === i);
  return `${dirs.map((d) => show(d, o)).join(' + ')} (${s.files.length} dialogue files)`;
}

function fitNote(s: SgdMetrics, o: FormatOptions): string {
  const key = s.fit.key.slice(0, 12);
  if (s.fit.cached) return `cached fit used (key ${key}, ${show(s.fit.file!, o)})`;
  return `fitted in ${s.fit.seconds.toFixed(1)} s (key ${key}${s.fit.file ? `, cached to ${show(s.fit.file, o)}` : ', not cached'})`;
}

export function formatSgd(s: SgdMetrics, o: FormatOptions = {}): string {
  const rows = Object.entries(s.sgdx).map(([v, m]) => `| SGD-X ${v} | ${pct(m.turnAccuracy)} | ${pct(m.switchTurnAccuracy)} | ${pct(m.turnAccuracyDomain)} | ${pct(m.statelessTurnAccuracy)} |`);
  const sgdxNote = s.sgdxSkipped
    ? 'SGD-X schema variants skipped (--no-sgdx).'
    : s.sgdxMissing.length
      ? `SGD-X ${s.sgdxMissing.join(', ')} not run: no sgd_x/<variant>/${s.split}/schema.json beside ${show(s.dir, o)}.`
      : '';
  return [
    `SGD ${s.split} split from ${dirsNote(s, o)}, encoder ${encoderNote(s.encoder)}${s.fastPathShare !== null ? ` (fast path on ${pct(s.fastPathShare)} of turns)` : ''}: ${s.dialogues} dialogues, ${s.turns} user turns (${s.switchTurns} service changes), ${s.services} services registered from schema descriptions only; gold active service from the user turns' frames.`,
    `Generic knobs fitted on SGD train (${show(s.trainDir, o)}, ${s.trainDialogues} dialogues; seed ${s.seed}${o.cacheNote === false ? '' : `; ${fitNote(s, o)}`}): context weight ${s.contextWeight}, policy ${JSON.stringify(s.policy)}; held-out train replay ${pct(s.train.turnAccuracy)}.`,
    'No rejection threshold: SGD has no out-of-scope turns, so every turn goes to an agent.',
    '"turn accuracy" needs the exact active service; "same domain" also accepts a service of the same domain (Hotels_1 vs Hotels_4 differ only in wording).',
    ...(sgdxNote ? [sgdxNote] : []),
    '',
    `| schema (${s.encoder === 'lexical' ? 'lexical' : 'lexical + USE'}) | turn accuracy (FSM) | on service changes | same domain (FSM) | stateless |`,
    '|---|---|---|---|---|',
    `| original | ${pct(s.turnAccuracy)} | ${pct(s.switchTurnAccuracy)} | ${pct(s.turnAccuracyDomain)} | ${pct(s.statelessTurnAccuracy)} |`,
    `| original, only the ${s.unseen.services.length} services not in SGD train (${s.unseen.turns} turns) | ${pct(s.unseen.turnAccuracy)} | ${pct(s.unseen.switchTurnAccuracy)} | ${pct(s.unseen.turnAccuracyDomain)} | – |`,
    ...rows,
    '',
    '| baseline | turn accuracy |',
    '|---|---|',
    `| stateless (this index, no context, no FSM) | ${pct(s.statelessTurnAccuracy)} (same domain ${pct(s.statelessTurnAccuracyDomain)}) |`,
    `| naive sticky (first turn's stateless guess for the whole dialogue) | ${pct(s.stickyTurnAccuracy)} |`,
    '| issue baselines: stateless TF-IDF / naive sticky | 28% / 50% |',
    '| target (FSM) | ≥ 90% |',
  ].join('\n');
}

export function formatResult(r: EvalAgentsResult, o: FormatOptions = {}): string {
  return [r.clinc ? formatClinc(r.clinc, o) : '', r.sgd ? formatSgd(r.sgd, o) : ''].filter((s) => s).join('\n\n');
}
