import type { ClincMetrics } from './clinc.ts';
import type { SgdMetrics } from './sgd.ts';

export interface EvalAgentsResult {
  clinc?: ClincMetrics;
  sgd?: SgdMetrics;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** Markdown tables (also the readable terminal output), with the baselines beside our figures. */
export function formatClinc(c: ClincMetrics): string {
  return [
    `CLINC150 test: ${c.agents} intents as agents, ${c.categories} domains as categories; ${c.testInScope} in-scope + ${c.testOos} OOS queries.`,
    `Threshold ${c.threshold.toFixed(4)} calibrated on val (val: in-scope ${pct(c.val.inScopeAccuracy)}, OOS recall ${pct(c.val.oosRecall)}).`,
    '',
    '| metric | MoMA | TF-IDF + LR baseline | target |',
    '|---|---|---|---|',
    `| in-scope accuracy, no rejection | ${pct(c.inScopeAccuracyNoReject)} | 92.3% | ≥ 95% |`,
    `| in-scope accuracy, with rejection | ${pct(c.inScopeAccuracy)} | 84.3% | ≥ 92% |`,
    `| OOS recall | ${pct(c.oosRecall)} | 90.9% | ≥ 90% |`,
    `| OOS precision | ${pct(c.oosPrecision)} | – | – |`,
    `| top-1 category (domain) accuracy | ${pct(c.domainAccuracy)} | – | – |`,
    '',
    `Index fitted in ${c.fitSeconds.toFixed(1)} s.`,
  ].join('\n');
}

export function formatSgd(s: SgdMetrics): string {
  const rows = Object.entries(s.sgdx).map(([v, m]) => `| SGD-X ${v} | ${pct(m.turnAccuracy)} | ${pct(m.switchTurnAccuracy)} | ${pct(m.turnAccuracyDomain)} | ${pct(m.statelessTurnAccuracy)} |`);
  return [
    `SGD dev: ${s.dialogues} dialogues, ${s.turns} user turns (${s.switchTurns} service changes), ${s.services} services registered from schema descriptions only.`,
    `Generic knobs fitted on SGD train (different services): context weight ${s.contextWeight}, threshold ${s.threshold}, policy ${JSON.stringify(s.policy)}.`,
    '"turn accuracy" needs the exact active service; "same domain" also accepts a service of the same domain (Hotels_1 vs Hotels_4 differ only in wording).',
    '',
    '| schema | turn accuracy (FSM) | on service changes | same domain (FSM) | stateless |',
    '|---|---|---|---|---|',
    `| original | ${pct(s.turnAccuracy)} | ${pct(s.switchTurnAccuracy)} | ${pct(s.turnAccuracyDomain)} | ${pct(s.statelessTurnAccuracy)} |`,
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

export function formatResult(r: EvalAgentsResult): string {
  return [r.clinc ? formatClinc(r.clinc) : '', r.sgd ? formatSgd(r.sgd) : ''].filter((s) => s).join('\n\n');
}
