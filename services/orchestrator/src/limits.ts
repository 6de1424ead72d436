// Rate limits and budgets, per API key and per tenant. The orchestrator owns their counters (Store windows under
// `limit:`): Admit counts a request against every limit its key and tenant have, in one atomic Store.take, so any
// number of gateways share one count; the executor's usage events (consumed once across orchestrator instances)
// add tokens and USD to the same windows. Tenant limits are stored under `tenantlimits:<tenant>`.
import { checkTenant, costModeAt, hasLimits } from '@moma/core';
import { MomaError, type CounterLimit, type Store, type WindowCounter } from '@moma/platform';
import {
  BudgetPeriod,
  Limits,
  type AdmitRequest,
  type AdmitResponse,
  type GetUsageRequest,
  type GetUsageResponse,
  type LimitState,
  type SetTenantLimitsRequest,
  type SetTenantLimitsResponse,
  type UsageBatch,
  type UsageTotals,
} from '@moma/proto';

export const TENANT_LIMITS_PREFIX = 'tenantlimits:';
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

type Holder = 'key' | 'tenant';
type Kind = 'requests' | 'tokens' | 'budget';

// The default tenant ('') cannot collide with a named one: tenant names never contain parentheses.
const base = (holder: Holder, id: string): string => `limit:${holder}:${holder === 'tenant' && id === '' ? '(default)' : id}`;

/** The sliding minute ending at `nowMs`: this minute's window with the previous one weighted. */
export function minuteWindow(key: string, nowMs: number): WindowCounter {
  const m = Math.floor(nowMs / MINUTE_MS);
  return { key: `${key}:${m}`, previousKey: `${key}:${m - 1}`, startMs: m * MINUTE_MS, endMs: (m + 1) * MINUTE_MS };
}

/** The UTC calendar day or month containing `nowMs`. */
export function periodWindow(key: string, period: BudgetPeriod, nowMs: number): WindowCounter {
  const d = new Date(nowMs);
  if (period === BudgetPeriod.BUDGET_PERIOD_DAY) {
    const startMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return { key: `${key}:d:${d.toISOString().slice(0, 10)}`, startMs, endMs: startMs + DAY_MS };
  }
  const startMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return { key: `${key}:m:${d.toISOString().slice(0, 7)}`, startMs, endMs: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

const periodName = (p: BudgetPeriod) => (p === BudgetPeriod.BUDGET_PERIOD_DAY ? 'daily' : 'monthly');
const usd = (v: number) => `$${v.toFixed(2)}`;

/** INVALID_ARGUMENT naming the field when a limit is negative, not finite, or cost_mode_at is outside [0, 1]. */
export function checkLimits(l: Limits | undefined, field: string): void {
  if (!l) return;
  const bad = (name: string, v: number) => {
    if (!Number.isFinite(v) || v < 0) throw MomaError.invalidArgument(`${field}.${name} must be a non-negative number (0 = no limit)`, { field: `${field}.${name}` });
  };
  bad('requests_per_minute', l.requestsPerMinute);
  bad('tokens_per_minute', l.tokensPerMinute);
  bad('budget_usd', l.budgetUsd);
  bad('cost_mode_at', l.costModeAt);
  if (l.costModeAt > 1) throw MomaError.invalidArgument(`${field}.cost_mode_at is a share of the budget, in (0, 1]`, { field: `${field}.cost_mode_at` });
}

interface Check {
  kind: Kind;
  holder: Holder;
  id: string;
  limits: Limits;
  counter: CounterLimit;
}

export class LimitStore {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  async tenantLimits(tenant: string): Promise<Limits | undefined> {
    const found = await this.#store.get<unknown>(TENANT_LIMITS_PREFIX + tenant);
    const l = found ? Limits.fromJSON(found.value) : undefined;
    return hasLimits(l) ? l : undefined;
  }

  async setTenantLimits(req: SetTenantLimitsRequest): Promise<SetTenantLimitsResponse> {
    if (!req.tenant) throw MomaError.invalidArgument('tenant limits need the tenant', { field: 'tenant' });
    checkTenant(req.tenant);
    checkLimits(req.limits, 'limits');
    if (!hasLimits(req.limits)) {
      await this.#store.delete(TENANT_LIMITS_PREFIX + req.tenant);
      return { limits: undefined };
    }
    await this.#store.put(TENANT_LIMITS_PREFIX + req.tenant, Limits.toJSON(req.limits));
    return { limits: req.limits };
  }

  /** Counts one request against every limit of its key and tenant, or none of them when any is full. */
  async admit(req: AdmitRequest): Promise<AdmitResponse> {
    const now = this.#now();
    const checks: Check[] = [];
    const holders: Array<[Holder, string, Limits | undefined]> = [
      ['key', req.keyId, req.keyId ? req.keyLimits : undefined],
      ['tenant', req.tenant, req.tenantLimits],
    ];
    for (const [holder, id, limits] of holders) {
      if (!hasLimits(limits)) continue;
      const b = base(holder, id);
      if (limits.requestsPerMinute > 0) {
        checks.push({ kind: 'requests', holder, id, limits, counter: { ...minuteWindow(`${b}:req`, now), limit: limits.requestsPerMinute, add: 1 } });
      }
      if (limits.tokensPerMinute > 0) {
        checks.push({ kind: 'tokens', holder, id, limits, counter: { ...minuteWindow(`${b}:tok`, now), limit: limits.tokensPerMinute, add: 0 } });
      }
      if (limits.budgetUsd > 0) {
        checks.push({ kind: 'budget', holder, id, limits, counter: { ...periodWindow(`${b}:usd`, limits.budgetPeriod, now), limit: limits.budgetUsd, add: 0 } });
      }
    }
    if (checks.length === 0) return { admitted: true, refusedBy: '', retryAfterMs: 0, states: [], costModeReason: '' };
    const taken = await this.#store.take(
      checks.map((c) => c.counter),
      now,
    );
    const states: LimitState[] = checks.map((c, i) => ({
      kind: c.kind,
      holder: c.holder,
      limit: c.counter.limit,
      used: taken.states[i]!.used,
      // A budget resets when its period ends, whatever has been spent.
      resetMs: c.kind === 'budget' ? Math.max(0, c.counter.endMs - now) : taken.states[i]!.resetMs,
    }));
    const near = checks
      .map((c, i) => ({ c, used: states[i]!.used, share: states[i]!.used / c.counter.limit }))
      .filter(({ c, share }) => c.kind === 'budget' && share >= costModeAt(c.limits))
      .sort((a, b) => b.share - a.share)[0];
    const costModeReason = near
      ? `budget: ${near.c.holder} ${near.c.id || '(default)'} has used ${Math.min(100, Math.round(near.share * 100))}% of its ${periodName(near.c.limits.budgetPeriod)} budget (${usd(near.used)} of ${usd(near.c.counter.limit)}), so it is routed in cost mode`
      : '';
    if (taken.ok) return { admitted: true, refusedBy: '', retryAfterMs: 0, states, costModeReason };
    const c = checks[taken.refused]!;
    const what = c.kind === 'requests' ? 'requests per minute' : c.kind === 'tokens' ? 'tokens per minute' : `${periodName(c.limits.budgetPeriod)} budget of ${usd(c.counter.limit)}`;
    return { admitted: false, refusedBy: `${what} of ${c.holder} ${c.id || '(default)'}`, retryAfterMs: states[taken.refused]!.resetMs, states, costModeReason };
  }

  /** Adds one usage batch's tokens and USD to its keys' and tenants' windows, once per batch `id`. */
  async charge(batch: UsageBatch, id: string): Promise<boolean> {
    const amounts: Array<WindowCounter & { amount: number }> = [];
    for (const ev of batch.events) {
      const tokens = (ev.usage?.promptTokens ?? 0) + (ev.usage?.completionTokens ?? 0);
      const cost = ev.usage?.costUsd ?? 0;
      const at = Number(ev.atMs) || this.#now();
      const holders: Array<[Holder, string]> = [['tenant', ev.tenant]];
      if (ev.keyId) holders.push(['key', ev.keyId]);
      for (const [holder, who] of holders) {
        const b = base(holder, who);
        if (tokens > 0) amounts.push({ ...minuteWindow(`${b}:tok`, at), amount: tokens });
        if (cost > 0) {
          amounts.push({ ...periodWindow(`${b}:usd`, BudgetPeriod.BUDGET_PERIOD_DAY, at), amount: cost });
          amounts.push({ ...periodWindow(`${b}:usd`, BudgetPeriod.BUDGET_PERIOD_MONTH, at), amount: cost });
        }
      }
    }
    if (amounts.length === 0) return false;
    return this.#store.add(`usage:${id}`, amounts);
  }

  async usage(req: GetUsageRequest): Promise<GetUsageResponse> {
    const now = this.#now();
    const totals = async (holder: Holder, who: string): Promise<UsageTotals> => {
      const b = base(holder, who);
      const [requestsPerMinute, tokensPerMinute, spentUsdDay, spentUsdMonth] = await this.#store.read(
        [
          minuteWindow(`${b}:req`, now),
          minuteWindow(`${b}:tok`, now),
          periodWindow(`${b}:usd`, BudgetPeriod.BUDGET_PERIOD_DAY, now),
          periodWindow(`${b}:usd`, BudgetPeriod.BUDGET_PERIOD_MONTH, now),
        ],
        now,
      );
      return { requestsPerMinute: requestsPerMinute!, tokensPerMinute: tokensPerMinute!, spentUsdDay: spentUsdDay!, spentUsdMonth: spentUsdMonth! };
    };
    const [tenant, tenantLimits, key] = await Promise.all([
      totals('tenant', req.tenant),
      this.tenantLimits(req.tenant),
      req.keyId ? totals('key', req.keyId) : Promise.resolve(undefined),
    ]);
    return { tenant, tenantLimits, key };
  }
}
