import { join } from 'node:path';
import {
  applyAgentOutcome,
  buildAgentIndex,
  decideAgentTurn,
  type AgentAvailability,
  type AgentIndexOptions,
  type AgentSpec,
  type ClassifyResult,
  type FsmPolicy,
  type FsmState,
  ShiftDetector,
  type ShiftSample,
} from '@moma/core';
import { domainOf, loadSgdDialogues, sgdAgents, type SgdDialogue } from './sgd-data.ts';

export interface ReplayMetrics {
  turns: number;
  switchTurns: number;
  /** The exact active service (the metric). */
  turnAccuracy: number;
  switchTurnAccuracy: number;
  /** A same-domain service counts as right (Hotels_1 vs Hotels_4 cannot be told apart from their descriptions). */
  turnAccuracyDomain: number;
  switchTurnAccuracyDomain: number;
}

export interface SgdMetrics extends ReplayMetrics {
  dialogues: number;
  services: number;
  statelessTurnAccuracy: number;
  statelessTurnAccuracyDomain: number;
  stickyTurnAccuracy: number;
  policy: FsmPolicy;
  contextWeight: number;
  threshold: number;
  sgdx: Record<string, ReplayMetrics & { statelessTurnAccuracy: number }>;
}

type Ctx = Array<{ role: string; content: string }>;

/** What the intent stage sees on each turn: the user turn with the previous user turn and the system reply as context. */
function classifyAll(agents: readonly AgentSpec[], dialogues: readonly SgdDialogue[], options: AgentIndexOptions): ClassifyResult[][] {
  const index = buildAgentIndex(agents, undefined, options);
  const all = 1 << 20;
  return dialogues.map((d) =>
    d.turns.map((t, i) => {
      const ctx: Ctx = [];
      const prev = d.turns[i - 1];
      if (prev) ctx.push({ role: 'user', content: prev.user });
      if (t.system) ctx.push({ role: 'assistant', content: t.system });
      return index.classify(t.user, ctx, all);
    }),
  );
}

function statelessAll(agents: readonly AgentSpec[], dialogues: readonly SgdDialogue[], options: AgentIndexOptions): string[][] {
  const index = buildAgentIndex(agents, undefined, { ...options, contextWeight: 0 });
  return dialogues.map((d) => d.turns.map((t) => index.classify(t.user, undefined, 1 << 20).candidates[0]?.agentId ?? ''));
}

function score(dialogues: readonly SgdDialogue[], preds: ReadonlyArray<ReadonlyArray<string | null>>): ReplayMetrics {
  let n = 0;
  let exact = 0;
  let domain = 0;
  let sw = 0;
  let swExact = 0;
  let swDomain = 0;
  dialogues.forEach((d, di) =>
    d.turns.forEach((t, i) => {
      const p = preds[di]![i] ?? null;
      const isExact = p === t.service;
      const isDomain = p !== null && domainOf(p) === domainOf(t.service);
      n++;
      if (isExact) exact++;
      if (isDomain) domain++;
      if (i > 0 && d.turns[i - 1]!.service !== t.service) {
        sw++;
        if (isExact) swExact++;
        if (isDomain) swDomain++;
      }
    }),
  );
  return {
    turns: n,
    switchTurns: sw,
    turnAccuracy: exact / n,
    switchTurnAccuracy: sw ? swExact / sw : 0,
    turnAccuracyDomain: domain / n,
    switchTurnAccuracyDomain: sw ? swDomain / sw : 0,
  };
}

/** Replays every dialogue through the state machine, feeding back the task state the real system reply implies. */
export function replayFsm(dialogues: readonly SgdDialogue[], cls: ClassifyResult[][], agentIds: readonly string[], policy: Partial<FsmPolicy>): Array<Array<string | null>> {
  const agents = new Map<string, AgentAvailability>(agentIds.map((id) => [id, { healthy: true, tenants: [] }]));
  return dialogues.map((d, di) => {
    let state: FsmState = { kind: 'idle' };
    return d.turns.map((t, i) => {
      const dec = decideAgentTurn({ state, classify: cls[di]![i]!, tenant: 'eval', agents }, policy);
      state = dec.agentId
        ? applyAgentOutcome(dec.next, { agentId: dec.agentId, taskState: t.taskState, taskId: `${d.id}:${i}`, contextId: d.id })
        : dec.next;
      return dec.agentId;
    });
  });
}

function withThreshold(cls: ClassifyResult[][], threshold: number): ClassifyResult[][] {
  return cls.map((d) => d.map((c) => ({ ...c, threshold, inScope: (c.candidates[0]?.score ?? 0) >= threshold })));
}

interface Fitted {
  policy: FsmPolicy;
  contextWeight: number;
  threshold: number;
  /** Replay on the held-out third of SGD train with a detector fitted on the other two thirds. */
  train: ReplayMetrics;
}

const DIM = 1 << 14;
/** Descriptions-only cards give the head few samples; kNN over the descriptions helps (chosen on SGD train). */
const WEIGHTS = { head: 0.6, knn: 0.3, centroid: 0.1 };
const HEAD = { epochs: 12, learningRate: 0.8 };

function shiftSamples(dialogues: readonly SgdDialogue[]): ShiftSample[] {
  return dialogues.flatMap((d) => d.turns.map((t, i) => ({ user: t.user, system: t.system, shifted: i > 0 && d.turns[i - 1]!.service !== t.service })));
}

/**
 * Fits the generic knobs (context weight, margins, shift cut-offs) on SGD train, whose services differ from dev's:
 * the shift detector is fitted on two thirds of the train dialogues and the knobs on the remaining third.
 */
export function fitSgdPolicy(dir: string, log: (m: string) => void): Fitted {
  const agents = sgdAgents(join(dir, 'raw/train/schema.json'));
  const all = loadSgdDialogues(dir, 'train');
  const tune = all.filter((_, i) => i % 3 === 0);
  const shift = ShiftDetector.fit(shiftSamples(all.filter((_, i) => i % 3 !== 0)));
  const ids = agents.map((a) => a.id);
  const threshold = 0; // SGD has no out-of-scope turns, so every turn goes to some agent
  let best: Fitted | null = null;
  for (const contextWeight of [0.6, 1.0]) {
    log(`sgd: fitting policy on train (context weight ${contextWeight})`);
    const cls = withThreshold(classifyAll(agents, tune, { contextWeight, shift, dim: DIM, weights: WEIGHTS, head: HEAD }), threshold);
    for (const switchMargin of [0.04, 0.08, 0.15, 1]) {
      for (const awaitingMargin of [0.02, 0.05, 0.1]) {
        for (const shiftThreshold of [0.3, 0.5]) {
          for (const shiftMargin of [-0.03, 0]) {
            const policy: FsmPolicy = { switchMargin, awaitingMargin, stayThreshold: 0, shiftThreshold, shiftMargin };
            const m = score(tune, replayFsm(tune, cls, ids, policy));
            if (!best || m.turnAccuracy > best.train.turnAccuracy) best = { policy, contextWeight, threshold, train: m };
          }
        }
      }
    }
  }
  return best!;
}

export function evalSgd(dir: string, log: (m: string) => void = () => {}): SgdMetrics & { train: ReplayMetrics } {
  const fitted = fitSgdPolicy(dir, log);
  log(`sgd: policy ${JSON.stringify(fitted.policy)} context ${fitted.contextWeight}; fitting the shift detector on all train dialogues`);
  const shift = ShiftDetector.fit(shiftSamples(loadSgdDialogues(dir, 'train')));
  const dialogues = loadSgdDialogues(dir, 'dev');
  const run = (schema: string, variant: boolean) => {
    const agents = sgdAgents(join(dir, schema), variant);
    const cls = withThreshold(classifyAll(agents, dialogues, { contextWeight: fitted.contextWeight, shift, dim: DIM, weights: WEIGHTS, head: HEAD }), fitted.threshold);
    const fsm = score(dialogues, replayFsm(dialogues, cls, agents.map((a) => a.id), fitted.policy));
    const stateless = statelessAll(agents, dialogues, { dim: DIM, weights: WEIGHTS, head: HEAD });
    return { agents, fsm, stateless: score(dialogues, stateless), stateless1: stateless };
  };
  log('sgd: replaying dev dialogues');
  const main = run('raw/dev/schema.json', false);
  // naive sticky: the first turn's stateless guess keeps the whole dialogue
  const sticky = score(dialogues, main.stateless1.map((d) => d.map(() => d[0] ?? null)));
  const sgdx: SgdMetrics['sgdx'] = {};
  for (const v of ['v1', 'v2', 'v3', 'v4', 'v5']) {
    log(`sgd: SGD-X ${v}`);
    const r = run(`raw/sgd_x/${v}/dev/schema.json`, true);
    sgdx[v] = { ...r.fsm, statelessTurnAccuracy: r.stateless.turnAccuracy };
  }
  return {
    dialogues: dialogues.length,
    services: main.agents.length,
    ...main.fsm,
    statelessTurnAccuracy: main.stateless.turnAccuracy,
    statelessTurnAccuracyDomain: main.stateless.turnAccuracyDomain,
    stickyTurnAccuracy: sticky.turnAccuracy,
    policy: fitted.policy,
    contextWeight: fitted.contextWeight,
    threshold: fitted.threshold,
    sgdx,
    train: fitted.train,
  };
}
