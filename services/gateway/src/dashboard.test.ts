// The dashboard's event-fed window, without a bus: per-second decisions by target (and what falls out of the
// window), totals and the best-single-model comparison, latency percentiles, modes, fallbacks, and feedback joined
// to what was predicted for the same request id.
import { describe, expect, it } from 'vitest';
import { agentTarget, llmTarget } from '@moma/core/rules';
import { ModelInfo, RoutingMode, UsageEvent } from '@moma/proto';
import { baselineCostUsd, percentile, UsageWindow, WINDOW_SECONDS } from './dashboard.ts';

const T0 = 1_800_000_000_000;

function event(over: Partial<UsageEvent> & { model?: string; cost?: number; failed?: string[]; latencyMs?: number }): UsageEvent {
  const target = over.target ?? llmTarget(over.model ?? 'small');
  return UsageEvent.fromPartial({
    requestId: over.requestId ?? '',
    target,
    ok: over.ok ?? true,
    atMs: over.atMs ?? T0,
    decisionMs: over.decisionMs ?? 2,
    mode: over.mode ?? RoutingMode.ROUTING_MODE_BALANCED,
    predictedQuality: over.predictedQuality ?? 0.5,
    usage: {
      promptTokens: 1000,
      completionTokens: 500,
      costUsd: over.cost ?? 0.001,
      latencyMs: over.latencyMs ?? 100,
      servedBy: target,
      failed: (over.failed ?? []).map((m) => llmTarget(m)),
    },
  });
}

describe('dashboard - UsageWindow', () => {
  it('window - decisions per second by target, sorted by target, oldest second first; older seconds fall out', () => {
    let now = T0;
    const w = new UsageWindow(() => now);
    w.add(event({ model: 'b', atMs: T0 - 2000 }));
    w.add(event({ model: 'a', atMs: T0 - 2000 }));
    w.add(event({ model: 'a', atMs: T0 - 2000 }));
    w.add(event({ model: 'a', atMs: T0 }));
    const s = w.series();
    expect(s.seconds).toBe(WINDOW_SECONDS);
    expect(s.start).toBe(Math.floor(T0 / 1000) - WINDOW_SECONDS + 1);
    expect(s.targets.map((t) => t.target)).toEqual(['llm:a', 'llm:b']);
    const a = s.targets[0]!.counts;
    expect(a.length).toBe(WINDOW_SECONDS);
    expect([a.at(-3), a.at(-2), a.at(-1)]).toEqual([2, 0, 1]);
    expect(a.reduce((x, y) => x + y, 0)).toBe(3);
    // Five minutes later the first second has left the window; the totals keep counting everything.
    now = T0 + (WINDOW_SECONDS - 1) * 1000;
    expect(w.series().targets.map((t) => [t.target, t.counts.reduce((x, y) => x + y, 0)])).toEqual([['llm:a', 1]]);
    now = T0 + WINDOW_SECONDS * 1000;
    expect(w.series().targets).toEqual([]);
    expect(w.totals.requests).toBe(4);
  });

  it('totals - failures, fallbacks by the target left, LLM-only tokens and cost, modes', () => {
    const w = new UsageWindow(() => T0);
    w.add(event({ model: 'small', cost: 0.002, failed: ['big'] }));
    w.add(event({ model: 'small', cost: 0.001, mode: RoutingMode.ROUTING_MODE_COST }));
    w.add(event({ model: 'small', ok: false, cost: 0, failed: ['big', 'mid'] }));
    w.add(event({ target: agentTarget('weather'), cost: 0 }));
    expect(w.totals).toMatchObject({ requests: 4, failed: 1, withFallback: 2, llmRequests: 2, inputTokens: 2000, outputTokens: 1000 });
    expect(w.totals.llmCostUsd).toBeCloseTo(0.003, 12);
    expect(w.fallbacks()).toEqual([
      { target: 'llm:big', left: 2 },
      { target: 'llm:mid', left: 1 },
    ]);
    expect(w.modes()).toEqual({ balanced: 3, cost: 1 });
    // The comparison point: the LLM answers' tokens at the best model's prices ($10 / $30 per 1M tokens).
    const best = ModelInfo.fromPartial({ id: 'big', inputPricePerMtok: 10, outputPricePerMtok: 30 });
    expect(baselineCostUsd(w.totals, best)).toBeCloseTo((2000 * 10 + 1000 * 30) / 1e6, 12);
    expect(baselineCostUsd(w.totals, undefined)).toBe(0);
  });

  it('latency - end to end is the call plus the decision; nearest-rank percentiles', () => {
    const w = new UsageWindow(() => T0);
    for (let i = 1; i <= 100; i++) w.add(event({ latencyMs: i * 10, decisionMs: i }));
    const l = w.latency();
    expect(l.decision_ms).toEqual({ p50: 50, p90: 90, p99: 99, samples: 100 });
    expect(l.end_to_end_ms).toEqual({ p50: 550, p90: 990, p99: 1089, samples: 100 });
    expect(percentile([], 0.5)).toBe(0);
    expect(percentile([3, 1, 2], 1)).toBe(3);
    expect(percentile([3, 1, 2], 0)).toBe(1);
  });

  it('feedback - joined to the prediction of the same request id; unknown ids are counted, not kept', () => {
    const w = new UsageWindow(() => T0);
    w.add(event({ requestId: 'r1', model: 'a', predictedQuality: 0.8 }));
    w.add(event({ requestId: 'r2', model: 'b', predictedQuality: 0.4 }));
    w.add(event({ requestId: 'r3', model: 'a', predictedQuality: 0.6 }));
    w.feedback({ requestId: 'r1', score: 1, tenant: '', atMs: T0 });
    w.feedback({ requestId: 'r2', score: 0, tenant: '', atMs: T0 });
    w.feedback({ requestId: 'r3', score: 0.5, tenant: '', atMs: T0 });
    w.feedback({ requestId: 'nope', score: 1, tenant: '', atMs: T0 });
    const q = w.quality();
    expect(q).toMatchObject({ feedback: 3, unmatched: 1 });
    expect(q.mean_predicted).toBeCloseTo(0.6, 12);
    expect(q.mean_observed).toBeCloseTo(0.5, 12);
    expect(q.mean_abs_error).toBeCloseTo((0.2 + 0.4 + 0.1) / 3, 12);
    expect(q.by_target).toEqual([
      { target: 'llm:a', predicted: expect.closeTo(0.7, 12), observed: expect.closeTo(0.75, 12), feedback: 2 },
      { target: 'llm:b', predicted: 0.4, observed: 0, feedback: 1 },
    ]);
    expect(q.recent.map((p) => p.observed)).toEqual([1, 0, 0.5]);
  });

  it('an empty window answers zeros and empty lists, not NaN', () => {
    const w = new UsageWindow(() => T0);
    expect(w.quality()).toMatchObject({ feedback: 0, mean_predicted: 0, mean_observed: 0, mean_abs_error: 0, by_target: [], recent: [] });
    expect(w.latency().end_to_end_ms).toEqual({ p50: 0, p90: 0, p99: 0, samples: 0 });
    expect(w.series().targets).toEqual([]);
    expect(w.fallbacks()).toEqual([]);
  });
});
