import type { CurveSummary, EvalGroupResult, EvalResult } from './evaluate.ts';

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

/** The results page for one dataset: one table per eval group plus the notes on how it was measured. */
export function markdownReport(r: EvalResult, plots: Record<string, string> = {}): string {
  const two = r.models.length === 2;
  return `## ${r.dataset}

Train ${r.split.train} queries, test ${r.split.test}; router heads: ${r.routerHeads.join(', ')}.

${r.notes.map((n) => `- ${n}`).join('\n')}

${r.evals.map((g) => `${group(g, two)}${plots[g.name] ? `\n![${g.name} cost-quality](${plots[g.name]})\n` : ''}`).join('\n')}`;
}
