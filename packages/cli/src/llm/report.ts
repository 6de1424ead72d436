import type { CurveSummary, EvalGroupResult, EvalResult } from './evaluate.ts';
import { multiTurnMarkdown } from './multiturn.ts';

const f3 = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : x.toFixed(3));
const usd = (x: number | null | undefined): string => (x === null || x === undefined ? 'never' : `$${x.toPrecision(3)}`);
const pct = (x: number | undefined): string => (x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);

/** A learned baseline's row, when it was run. */
function learned(name: string, c: CurveSummary | undefined, twoModel: boolean): string[][] {
  if (!c) return [];
  return [[name, f3(c.aiq), f3(c.maxQuality), usd(c.costAtBestSingleQuality), ...(twoModel ? [f3(c.apgr), pct(c.cpt50), pct(c.cpt80)] : [])]];
}

function group(g: EvalGroupResult, twoModel: boolean): string {
  const b = g.baselines;
  const rows: string[][] = [
    ['**MoMA router**', f3(g.router.aiq), f3(g.router.maxQuality), usd(g.router.costAtBestSingleQuality), ...(twoModel ? [f3(g.router.apgr), pct(g.router.cpt50), pct(g.router.cpt80)] : [])],
    ...learned('kNN (k=40)', b.knn, twoModel),
    ...learned('MLP', b.mlp, twoModel),
    ['zero router', f3(b.zero.aiq), f3(b.bestSingle.quality), usd(b.bestSingle.cost), ...(twoModel ? ['0.500', '50.0%', '80.0%'] : [])],
    [
      `random (${b.random.seeds} seeds)`,
      f3(b.random.aiq),
      `${f3(b.random.quality)} ± ${f3(b.random.qualitySd)}`,
      '—',
      ...(twoModel ? [`${f3(b.random.apgr)} ± ${f3(b.random.apgrSd)}`, '—', '—'] : []),
    ],
    ['oracle', f3(b.oracle.aiq), f3(b.oracle.quality), usd(b.oracle.cost), ...(twoModel ? ['—', '—', '—'] : [])],
  ];
  const head = ['router', 'AIQ', 'max quality', 'cost at best-single quality', ...(twoModel ? ['APGR', 'CPT(50%)', 'CPT(80%)'] : [])];
  const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const modes = Object.entries(g.router.modes)
    .map(([m, p]) => `| ${m} | ${f3(p.quality)} | ${usd(p.cost)} | ${(100 * p.costVsBestSingle).toFixed(1)}% |`)
    .join('\n');
  const singles = b.singles.map((s) => `| ${s.model} | ${f3(s.quality)} | ${usd(s.cost)} |`).join('\n');
  return `### ${g.name} (${g.queries} test queries)

${table}

Best single model: **${b.bestSingle.model}**, quality ${f3(b.bestSingle.quality)} at ${usd(b.bestSingle.cost)} per query.

| mode (calibrated on validation) | quality | cost per query | cost vs best single |
| --- | --- | --- | --- |
${modes}

<details><summary>Single models</summary>

| model | quality | cost per query |
| --- | --- | --- |
${singles}

</details>
`;
}

/** Past this many groups, only the first (all tasks) gets full tables; the tasks get one summary line each. */
export const FULL_GROUPS = 8;

/** The groups shown with full tables and a plot. */
export const fullGroups = (r: EvalResult): EvalGroupResult[] => (r.evals.length > FULL_GROUPS ? r.evals.slice(0, 1) : r.evals);

function taskLines(r: EvalResult): string {
  const rows = r.evals.slice(1).map((g) => {
    const q = g.router.modes.quality;
    const b = g.baselines;
    return `| ${g.name} | ${g.queries} | ${f3(g.router.aiq)} | ${f3(b.zero.aiq)} | ${f3(q.quality)} @ ${(100 * q.costVsBestSingle).toFixed(0)}% | ${f3(b.bestSingle.quality)} (${b.bestSingle.model}) | ${f3(b.random.quality)} | ${f3(b.oracle.quality)} |${r.models.length === 2 ? ` ${f3(g.router.apgr)} |` : ''}`;
  });
  const two = r.models.length === 2;
  return `### Per task

| task | test queries | AIQ router | AIQ zero | quality mode (cost vs best single) | best single | random | oracle |${two ? ' APGR |' : ''}
| --- | --- | --- | --- | --- | --- | --- | --- |${two ? ' --- |' : ''}
${rows.join('\n')}
`;
}

/** The results page for one dataset: one table per eval group plus the notes on how it was measured. */
export function markdownReport(r: EvalResult, plots: Record<string, string> = {}): string {
  const two = r.models.length === 2;
  const full = fullGroups(r);
  return `## ${r.dataset}

Train ${r.split.train} queries, test ${r.split.test}; router heads: ${r.routerHeads.join(', ')}.

${r.notes.map((n) => `- ${n}`).join('\n')}

${full.map((g) => `${group(g, two)}${plots[g.name] ? `\n![${g.name} cost-quality](${plots[g.name]})\n` : ''}`).join('\n')}${r.evals.length > full.length ? `\n${taskLines(r)}` : ''}${r.multiTurn ? `\n${multiTurnMarkdown(r.multiTurn)}` : ''}`;
}
