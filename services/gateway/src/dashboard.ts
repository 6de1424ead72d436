// What the admin dashboard (/ui) shows, gathered by every gateway replica alike: the executors' usage events and
// the clients' feedback arrive on the bus at every instance (fan-out), so each keeps the same fleet-wide rolling
// window; the registry, sessions, the router's front and provider health are asked of their owners when the page
// polls (cached a few seconds, so many open dashboards cost the stages one call each per period).
import { modeName, targetText } from '@moma/core/rules';
import { subscribeEvent, type Bus, type Subscription } from '@moma/platform';
import { TargetKind, Topics, type Feedback, type ModelInfo, type UsageEvent } from '@moma/proto';
import type { GatewayRouter } from './router.ts';

/** Seconds of per-second decision counts kept (the live chart). */
export const WINDOW_SECONDS = 300;
const LATENCIES = 2000;
const JOINABLE = 10_000;
const PAIRS = 500;

export interface Totals {
  requests: number;
  failed: number;
  withFallback: number;
  costUsd: number;
  /** LLM-served requests only: their tokens, the base of the best-single-model comparison. */
  llmRequests: number;
  llmCostUsd: number;
  inputTokens: number;
  outputTokens: number;
}

/** Percentile `p` (0-1) of `xs` (nearest rank); 0 for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

interface Pair {
  target: string;
  predicted: number;
  observed: number;
}

/** The rolling, event-fed part: pure given the events (unit-tested without a bus). */
export class UsageWindow {
  readonly #perSecond = new Map<number, Map<string, number>>();
  readonly #latency: number[] = [];
  readonly #decision: number[] = [];
  #next = 0;
  /** request id → what was predicted for it (bounded, oldest dropped), for joining feedback. */
  readonly #predicted = new Map<string, { target: string; quality: number }>();
  readonly #pairs: Pair[] = [];
  readonly #fallbackTargets = new Map<string, number>();
  readonly totals: Totals = { requests: 0, failed: 0, withFallback: 0, costUsd: 0, llmRequests: 0, llmCostUsd: 0, inputTokens: 0, outputTokens: 0 };
  readonly #modes = new Map<string, number>();
  feedbackUnmatched = 0;

  readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  add(ev: UsageEvent): void {
    const t = this.totals;
    const target = targetText(ev.target);
    const sec = Math.floor(Number(ev.atMs || this.now()) / 1000);
    let bucket = this.#perSecond.get(sec);
    if (!bucket) this.#perSecond.set(sec, (bucket = new Map()));
    bucket.set(target, (bucket.get(target) ?? 0) + 1);
    this.#prune();
    t.requests++;
    if (!ev.ok) t.failed++;
    const u = ev.usage;
    if (u) {
      t.costUsd += u.costUsd;
      if (u.failed.length > 0) {
        t.withFallback++;
        for (const f of u.failed) this.#fallbackTargets.set(targetText(f), (this.#fallbackTargets.get(targetText(f)) ?? 0) + 1);
      }
      if (ev.ok && u.servedBy?.kind === TargetKind.TARGET_KIND_LLM) {
        t.llmRequests++;
        t.llmCostUsd += u.costUsd;
        t.inputTokens += u.promptTokens;
        t.outputTokens += u.completionTokens;
      }
      const i = this.#next++ % LATENCIES;
      this.#latency[i] = u.latencyMs + ev.decisionMs;
      this.#decision[i] = ev.decisionMs;
    }
    const mode = modeName(ev.mode);
    this.#modes.set(mode, (this.#modes.get(mode) ?? 0) + 1);
    if (ev.requestId) {
      this.#predicted.set(ev.requestId, { target, quality: ev.predictedQuality });
      if (this.#predicted.size > JOINABLE) this.#predicted.delete(this.#predicted.keys().next().value!);
    }
  }

  /** A client's score for a request: joined with what was predicted for it (unknown ids are counted, not kept). */
  feedback(fb: Feedback): void {
    const p = this.#predicted.get(fb.requestId);
    if (!p) {
      this.feedbackUnmatched++;
      return;
    }
    this.#pairs.push({ target: p.target, predicted: p.quality, observed: fb.score });
    if (this.#pairs.length > PAIRS) this.#pairs.shift();
  }

  #prune(): void {
    const oldest = Math.floor(this.now() / 1000) - WINDOW_SECONDS;
    for (const s of this.#perSecond.keys()) if (s < oldest) this.#perSecond.delete(s);
  }

  /** Decisions per second by target over the last `WINDOW_SECONDS` (oldest first), and the targets seen. */
  series(): { start: number; seconds: number; targets: Array<{ target: string; counts: number[] }> } {
    this.#prune();
    const end = Math.floor(this.now() / 1000);
    const start = end - WINDOW_SECONDS + 1;
    const byTarget = new Map<string, number[]>();
    for (const [sec, m] of this.#perSecond) {
      if (sec < start || sec > end) continue;
      for (const [target, n] of m) {
        let row = byTarget.get(target);
        if (!row) byTarget.set(target, (row = new Array<number>(WINDOW_SECONDS).fill(0)));
        row[sec - start]! += n;
      }
    }
    return { start, seconds: WINDOW_SECONDS, targets: [...byTarget].map(([target, counts]) => ({ target, counts })).sort((a, b) => a.target.localeCompare(b.target)) };
  }

  latency() {
    const e2e = this.#latency.filter((x) => x !== undefined);
    const d = this.#decision.filter((x) => x !== undefined);
    const row = (xs: number[]) => ({ p50: percentile(xs, 0.5), p90: percentile(xs, 0.9), p99: percentile(xs, 0.99), samples: xs.length });
    return { end_to_end_ms: row(e2e), decision_ms: row(d) };
  }

  quality() {
    const n = this.#pairs.length;
    const mean = (f: (p: Pair) => number) => (n ? this.#pairs.reduce((a, p) => a + f(p), 0) / n : 0);
    const byTarget = new Map<string, { predicted: number; observed: number; n: number }>();
    for (const p of this.#pairs) {
      const r = byTarget.get(p.target) ?? { predicted: 0, observed: 0, n: 0 };
      r.predicted += p.predicted;
      r.observed += p.observed;
      r.n++;
      byTarget.set(p.target, r);
    }
    return {
      feedback: n,
      unmatched: this.feedbackUnmatched,
      mean_predicted: mean((p) => p.predicted),
      mean_observed: mean((p) => p.observed),
      mean_abs_error: mean((p) => Math.abs(p.predicted - p.observed)),
      by_target: [...byTarget].map(([target, r]) => ({ target, predicted: r.predicted / r.n, observed: r.observed / r.n, feedback: r.n })),
      recent: this.#pairs.slice(-100),
    };
  }

  fallbacks(): Array<{ target: string; left: number }> {
    return [...this.#fallbackTargets].map(([target, left]) => ({ target, left })).sort((a, b) => b.left - a.left);
  }

  modes(): Record<string, number> {
    return Object.fromEntries(this.#modes);
  }
}

/** USD the LLM-served requests' tokens would have cost at `best`'s prices (the router's comparison point). */
export function baselineCostUsd(t: Totals, best: ModelInfo | undefined): number {
  if (!best) return 0;
  return (t.inputTokens * best.inputPricePerMtok + t.outputTokens * best.outputPricePerMtok) / 1_000_000;
}

/** A value fetched at most every `ttlMs` (a failure is kept as the error, and retried next period). */
class Cached<T> {
  #at = 0;
  #value: Promise<T> | undefined;
  readonly #ttlMs: number;
  readonly #fetch: () => Promise<T>;
  constructor(ttlMs: number, fetch: () => Promise<T>) {
    this.#ttlMs = ttlMs;
    this.#fetch = fetch;
  }
  get(): Promise<T> {
    const now = Date.now();
    if (!this.#value || now - this.#at > this.#ttlMs) {
      this.#at = now;
      this.#value = this.#fetch();
    }
    return this.#value;
  }
}

/** Settles `p` to its value, or to `{error}` naming why the part is missing (the page shows it; nothing else fails). */
const part = <T>(p: Promise<T>): Promise<T | { error: string }> => p.catch((err: unknown) => ({ error: (err as Error).message }));

export class Dashboard {
  readonly window = new UsageWindow();
  readonly #subs: Subscription[] = [];
  readonly #agents;
  readonly #sessions;
  readonly #front;
  readonly #models;
  readonly #providers;
  readonly #startedAt = Date.now();

  constructor(router: GatewayRouter, ttlMs = 3000) {
    const { orchestrator, scoring } = router.stages;
    this.#agents = new Cached(ttlMs, () => orchestrator.listAgents({ tenant: '', knownVersion: 0, pageSize: 200, pageToken: '' }, { timeoutMs: 2000 }));
    this.#sessions = new Cached(ttlMs, () => orchestrator.listSessions({ limit: 25, tenant: '' }, { timeoutMs: 2000 }));
    this.#front = new Cached(ttlMs, () => scoring.describeFront({}, { timeoutMs: 2000 }));
    this.#models = new Cached(ttlMs, () => router.listModels());
    this.#providers = new Cached(ttlMs, () => router.providerStatus());
  }

  async start(bus: Bus): Promise<void> {
    this.#subs.push(await subscribeEvent(bus, Topics.usage, (batch) => batch.events.forEach((e) => this.window.add(e))));
    this.#subs.push(await subscribeEvent(bus, Topics.feedback, (fb) => this.window.feedback(fb)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#subs.map((s) => s.unsubscribe()));
  }

  /** The JSON the page polls (GET /v1/admin/dashboard). */
  async snapshot() {
    const [agents, sessions, front, models, providers] = await Promise.all([
      part(this.#agents.get()),
      part(this.#sessions.get()),
      part(this.#front.get()),
      part(this.#models.get()),
      part(this.#providers.get()),
    ]);
    const w = this.window;
    const prices = 'error' in models ? [] : models.models;
    const bestId = 'error' in front ? '' : front.bestModel;
    const best = prices.find((m) => m.id === bestId);
    const baseline = baselineCostUsd(w.totals, best);
    return {
      generated_at_ms: Date.now(),
      since_ms: this.#startedAt,
      totals: {
        requests: w.totals.requests,
        failed: w.totals.failed,
        with_fallback: w.totals.withFallback,
        cost_usd: w.totals.costUsd,
        modes: w.modes(),
      },
      savings: {
        best_model: bestId,
        llm_requests: w.totals.llmRequests,
        cost_usd: w.totals.llmCostUsd,
        best_model_cost_usd: baseline,
        saved_usd: baseline - w.totals.llmCostUsd,
        saved_share: baseline > 0 ? 1 - w.totals.llmCostUsd / baseline : 0,
      },
      decisions: w.series(),
      latency: w.latency(),
      quality: w.quality(),
      fallbacks: w.fallbacks(),
      providers: 'error' in providers ? providers : providers.providers.map((p) => ({ provider: p.provider, model: p.model, state: p.state, failures: p.failures, open_until_ms: Number(p.openUntilMs) })),
      agents: 'error' in agents ? agents : agents.agents.map((a) => ({ id: a.id, name: a.card?.name ?? a.id, category: a.category, healthy: a.healthy, tenants: a.tenants })),
      sessions: 'error' in sessions
        ? sessions
        : { total: sessions.total, recent: sessions.sessions.map((s) => ({ session_id: s.sessionId, tenant: s.tenant, fsm_state: s.fsmState, turns: s.turns, last_served_by: s.lastServedBy, updated_at_ms: Number(s.updatedAtMs) })) },
      front: 'error' in front
        ? front
        : {
            router_version: front.routerVersion,
            best_model: front.bestModel,
            models: front.models.map((m) => ({ id: m.id, quality: m.quality, cost_usd: m.costUsd, on_front: m.onFront, requests: Number(m.requests) })),
            modes: front.modes.map((m) => ({ id: m.id, quality: m.quality, cost_usd: m.costUsd, requests: Number(m.requests) })),
          },
    };
  }
}
