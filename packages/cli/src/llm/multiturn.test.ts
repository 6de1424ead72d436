// Multi-turn evaluation on a hand-made routing table: conversations built per task, and the three policies (fresh,
// stick, switch cost) counted as the gateway would route them.
import type { RoutingTable } from '@moma/core';
import { describe, expect, it } from 'vitest';
import { buildConversations, multiTurnEval, multiTurnMarkdown, parseMultiTurn, playPolicy } from './multiturn.ts';

/** Rows × models [a, b]: predicted quality, true score; costs 0 (so utility = predicted quality in every mode). */
function table(pred: Array<[number, number]>, truth: Array<[number, number]>): RoutingTable {
  return {
    n: pred.length,
    models: 2,
    predQuality: Float32Array.from(pred.flat()),
    predCost: new Float32Array(pred.length * 2),
    trueScore: Float32Array.from(truth.flat()),
    trueCost: Float32Array.from(pred.flatMap(() => [0.002, 0.001])),
  };
}

describe('multiturn - conversations', () => {
  it('multiturn - each task\'s rows, shuffled with the seed, in runs of N; a last run of one is left over', () => {
    const tasks = ['x', 'y', 'x', 'x', 'y', 'x', 'x'];
    const convs = buildConversations(tasks, 2, 1);
    expect(convs).toEqual(buildConversations(tasks, 2, 1));
    expect(convs.every((c) => new Set(c.map((i) => tasks[i])).size === 1)).toBe(true);
    expect(convs.map((c) => c.length).sort()).toEqual([2, 2, 2]);
    expect(new Set(convs.flat()).size).toBe(6);
  });

  it('multiturn - --turns and --switch-costs', () => {
    expect(parseMultiTurn(undefined, undefined, 1)).toBeUndefined();
    expect(parseMultiTurn('4', '0.02,0.1', 7)).toEqual({ turns: 4, switchCosts: [0.02, 0.1], seed: 7 });
    expect(parseMultiTurn('1', undefined, 1)).toMatch(/--turns must be an integer >= 2/);
    expect(parseMultiTurn('3', '0.1,-1', 1)).toMatch(/--switch-costs/);
  });
});

describe('multiturn - policies', () => {
  // One conversation of four turns: b is predicted slightly better on turn 2, clearly better on turn 3, and a slightly
  // better again on turn 4.
  const t = table(
    [
      [0.8, 0.5],
      [0.7, 0.72],
      [0.4, 0.9],
      [0.61, 0.6],
    ],
    [
      [1, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ],
  );
  const conv = [[0, 1, 2, 3]];

  it('multiturn - fresh follows every prediction; stick never leaves the first model; a switch cost only leaves it for a clear gain', () => {
    expect(playPolicy(t, ['a', 'b'], conv, Infinity, 0)).toMatchObject({ switchesPerConversation: 2, quality: 0.75 }); // a, b, b, a
    expect(playPolicy(t, ['a', 'b'], conv, Infinity, Infinity)).toMatchObject({ switchesPerConversation: 0, quality: 0.75, neverSwitched: 1 });
    // Cost 0.1: stays on a for turn 2 (gain 0.02), moves to b for turn 3 (gain 0.5), stays on b for turn 4 (gain 0.01).
    expect(playPolicy(t, ['a', 'b'], conv, Infinity, 0.1)).toMatchObject({ switchesPerConversation: 1, quality: 1, neverSwitched: 0 });
  });

  it('multiturn - every mode, fresh first and stick last, with the costs in between (0 is fresh itself)', () => {
    const r = multiTurnEval(t, ['x', 'x', 'x', 'x'], ['a', 'b'], { quality: Infinity, balanced: 10, cost: 1 }, { turns: 4, switchCosts: [0.1, 0, 0.1], seed: 1 });
    expect(r).toMatchObject({ conversations: 1, turnsPerConversation: 4, unused: 0 });
    expect(r.modes.map((m) => m.mode)).toEqual(['quality', 'balanced', 'cost']);
    expect(r.modes[0]!.policies.map((p) => p.policy)).toEqual(['fresh', 'switch cost 0.1', 'stick']);
    expect(multiTurnMarkdown(r)).toContain('| switch cost 0.1 | 1.000 |');
  });
});
