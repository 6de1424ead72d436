// Multi-turn evaluation (`moma eval --turns N`): conversations that don't bounce. The routing data has one prompt per
// row, so conversations are built from it: each task's test rows in a seeded random order, cut into runs of N
// consecutive prompts (a user asking several questions of one kind in one session). Every policy routes every turn of
// every conversation with the router's predictions, and is scored on the data's true quality and cost:
//   - fresh: each turn ranked afresh (switch cost 0; what a stateless router does),
//   - stick: every turn on the first turn's model (an infinite switch cost),
//   - switch cost c: the gateway's own rule (sessionRanking of @moma/core/rules), the previous turn's model kept unless
//     another beats its utility by at least c.
// Reported per policy: mean quality and cost per turn, and switches per conversation (turns whose model differs from
// the previous turn's).
import { llmTarget, sessionRanking, type RoutingModeName, type RoutingTable } from '@moma/core';
import { rng } from '@moma/core/train';
import type { Candidate } from '@moma/proto';

export interface MultiTurnOptions {
  /** Turns per conversation (≥ 2). */
  turns: number;
  /** The switch costs to evaluate, in utility units (quality points in [0,1] less cost / willingness to pay). */
  switchCosts: number[];
  seed: number;
}

export interface PolicyResult {
  /** "fresh", "stick" or "switch cost <c>". */
  policy: string;
  /** The switch cost the policy applies (0 fresh, null stick = infinite). */
  switchCost: number | null;
  /** Mean true quality per turn. */
  quality: number;
  /** Mean true USD per turn. */
  cost: number;
  switchesPerConversation: number;
  /** Share of conversations that never switched. */
  neverSwitched: number;
}

export interface MultiTurnModeResult {
  mode: RoutingModeName;
  wtp: number;
  policies: PolicyResult[];
}

export interface MultiTurnResult {
  conversations: number;
  turnsPerConversation: number;
  /** Test rows left over (a task's last run shorter than two turns), not in any conversation. */
  unused: number;
  modes: MultiTurnModeResult[];
}

/** Row indices per conversation: each task's rows shuffled with `seed`, cut into runs of `turns` (a last run of ≥ 2 kept). */
export function buildConversations(tasks: readonly string[], turns: number, seed: number): number[][] {
  const byTask = new Map<string, number[]>();
  tasks.forEach((t, i) => byTask.set(t, [...(byTask.get(t) ?? []), i]));
  const rand = rng(seed);
  const out: number[][] = [];
  for (const task of [...byTask.keys()].sort()) {
    const idx = byTask.get(task)!;
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    for (let s = 0; s < idx.length; s += turns) {
      const run = idx.slice(s, s + turns);
      if (run.length >= 2) out.push(run);
    }
  }
  return out;
}

/** The router's ranking of row `i`, as the scoring stage ranks (utility q − c/wtp, then quality, then cost). */
function rankedAt(t: RoutingTable, i: number, models: readonly string[], wtp: number): Candidate[] {
  const M = t.models;
  const cands: Candidate[] = models.map((id, m) => {
    const q = t.predQuality[i * M + m]!;
    const c = t.predCost[i * M + m]!;
    return { target: llmTarget(id), predictedQuality: q, predictedCostUsd: c, utility: Number.isFinite(wtp) ? q - c / wtp : q };
  });
  return cands.sort((a, b) => b.utility - a.utility || b.predictedQuality - a.predictedQuality || a.predictedCostUsd - b.predictedCostUsd);
}

/** Plays every conversation under one switch cost (Infinity = stick, 0 = fresh). */
export function playPolicy(t: RoutingTable, models: readonly string[], conversations: readonly number[][], wtp: number, switchCost: number) {
  const M = t.models;
  const col = new Map(models.map((id, m) => [id, m]));
  let quality = 0;
  let cost = 0;
  let turns = 0;
  let switches = 0;
  let never = 0;
  for (const conv of conversations) {
    let previous: string | undefined;
    let own = 0;
    for (const i of conv) {
      const { ranked } = sessionRanking(rankedAt(t, i, models, wtp), { previous: previous ? llmTarget(previous) : undefined, switchCost });
      const chosen = ranked[0]!.target!.id;
      if (previous !== undefined && chosen !== previous) own++;
      previous = chosen;
      const m = col.get(chosen)!;
      quality += t.trueScore[i * M + m]!;
      cost += t.trueCost[i * M + m]!;
      turns++;
    }
    switches += own;
    if (own === 0) never++;
  }
  const n = Math.max(conversations.length, 1);
  return { quality: quality / Math.max(turns, 1), cost: cost / Math.max(turns, 1), switchesPerConversation: switches / n, neverSwitched: never / n };
}

/** Every policy in every mode on the conversations built from `tasks` (one per row of `t`). */
export function multiTurnEval(
  t: RoutingTable,
  tasks: readonly string[],
  models: readonly string[],
  modesWtp: Record<RoutingModeName, number>,
  opts: MultiTurnOptions,
): MultiTurnResult {
  const conversations = buildConversations(tasks, opts.turns, opts.seed);
  const used = conversations.reduce((a, c) => a + c.length, 0);
  const costs = [...new Set(opts.switchCosts.filter((c) => c > 0))].sort((a, b) => a - b);
  const modes = (['quality', 'balanced', 'cost'] as const).map((mode): MultiTurnModeResult => {
    const wtp = modesWtp[mode];
    const play = (policy: string, switchCost: number): PolicyResult => ({
      policy,
      switchCost: Number.isFinite(switchCost) ? switchCost : null,
      ...playPolicy(t, models, conversations, wtp, switchCost),
    });
    return { mode, wtp, policies: [play('fresh', 0), ...costs.map((c) => play(`switch cost ${c}`, c)), play('stick', Infinity)] };
  });
  return { conversations: conversations.length, turnsPerConversation: opts.turns, unused: tasks.length - used, modes };
}

/** The markdown section of `moma eval` for a multi-turn result. */
export function multiTurnMarkdown(r: MultiTurnResult): string {
  const usd = (x: number) => `$${x.toPrecision(3)}`;
  const tables = r.modes
    .map((m) => {
      const fresh = m.policies[0]!;
      const rows = m.policies.map(
        (p) =>
          `| ${p.policy} | ${p.quality.toFixed(3)} | ${usd(p.cost)} | ${p.switchesPerConversation.toFixed(2)} | ${(100 * p.neverSwitched).toFixed(1)}% | ${(p.quality - fresh.quality >= 0 ? '+' : '')}${(p.quality - fresh.quality).toFixed(3)} |`,
      );
      return `#### ${m.mode} mode\n\n| policy | quality | cost per turn | switches per conversation | never switched | quality vs fresh |\n| --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}\n`;
    })
    .join('\n');
  return `### Multi-turn: switches per conversation

${r.conversations} conversations of up to ${r.turnsPerConversation} turns (each task's test prompts in a seeded order, ${r.unused} left over). fresh routes every turn afresh; stick keeps the first turn's model; switch cost c keeps the previous turn's model unless another beats its utility by at least c (the gateway's rule).

${tables}`;
}

export const DEFAULT_SWITCH_COSTS = [0.01, 0.02, 0.05, 0.1];

/** The flags `moma eval` takes for it (parseArgs options). */
export const multiTurnFlags = {
  turns: { type: 'string' },
  'switch-costs': { type: 'string', default: DEFAULT_SWITCH_COSTS.join(',') },
} as const;

export const MULTI_TURN_USAGE = `  --turns N: also evaluate conversations of N turns (each task's test prompts in a seeded order, N at a time): per
  mode, quality, cost and switches per conversation when routing every turn afresh, when sticking to the first turn's
  model, and with each --switch-costs C (comma-separated utility points; default ${DEFAULT_SWITCH_COSTS.join(',')}), the
  gateway's rule that keeps the previous turn's model unless another is better by at least C.`;

/** --turns / --switch-costs → options (undefined without --turns), or the error to print. */
export function parseMultiTurn(turns: string | undefined, switchCosts: string | undefined, seed: number): MultiTurnOptions | undefined | string {
  if (turns === undefined) return undefined;
  const n = Number(turns);
  if (!Number.isInteger(n) || n < 2) return `--turns must be an integer >= 2 (got ${turns})`;
  const costs = (switchCosts ?? DEFAULT_SWITCH_COSTS.join(',')).split(',').filter((c) => c.trim() !== '').map(Number);
  if (costs.some((c) => !(c >= 0) || !Number.isFinite(c))) return `--switch-costs must be comma-separated numbers >= 0 (got ${switchCosts})`;
  return { turns: n, switchCosts: costs, seed };
}
