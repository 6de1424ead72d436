import { describe, expect, it } from 'vitest';
import { Code, MemoryStore } from '@moma/platform';
import { BudgetPeriod, Limits, UsageBatch } from '@moma/proto';
import { LimitStore, minuteWindow, periodWindow } from './limits.ts';

const limits = (l: Partial<Limits>): Limits => Limits.fromPartial(l);
const T0 = Date.UTC(2026, 11, 2, 10, 0, 30); // 30 s into a minute

function clocked(start = T0) {
  let now = start;
  return { store: new LimitStore(new MemoryStore({ now: () => now }), () => now), at: (ms: number) => (now = ms) };
}

const usage = (tenant: string, keyId: string, tokens: number, costUsd: number, atMs = T0) =>
  UsageBatch.fromPartial({ events: [{ tenant, keyId, atMs, ok: true, usage: { promptTokens: tokens, completionTokens: 0, costUsd } }] });

describe('limits - windows', () => {
  it('windows - a minute slides over the previous one; budgets follow UTC days and months', () => {
    expect(minuteWindow('k', T0)).toMatchObject({ startMs: T0 - 30_000, endMs: T0 + 30_000, key: expect.stringMatching(/^k:\d+$/) });
    expect(periodWindow('k', BudgetPeriod.BUDGET_PERIOD_DAY, T0)).toMatchObject({ key: 'k:d:2026-12-02', endMs: Date.UTC(2026, 11, 3) });
    expect(periodWindow('k', BudgetPeriod.BUDGET_PERIOD_MONTH, T0)).toMatchObject({ key: 'k:m:2026-12', endMs: Date.UTC(2027, 0, 1) });
  });
});

describe('limits - admit', () => {
  it('admit - requests per minute: the key and the tenant are each counted, the tighter refuses with when to retry', async () => {
    const { store } = clocked();
    const req = { keyId: 'key_a', keyLimits: limits({ requestsPerMinute: 3 }), tenant: 'acme', tenantLimits: limits({ requestsPerMinute: 5 }) };
    for (let i = 0; i < 3; i++) expect((await store.admit(req)).admitted).toBe(true);
    const refused = await store.admit(req);
    expect(refused).toMatchObject({ admitted: false, refusedBy: 'requests per minute of key key_a' });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(90_000);
    // A second key of the same tenant still has the tenant's last two.
    const other = { ...req, keyId: 'key_b' };
    expect((await store.admit(other)).admitted).toBe(true);
    expect((await store.admit(other)).admitted).toBe(true);
    expect(await store.admit(other)).toMatchObject({ admitted: false, refusedBy: 'requests per minute of tenant acme' });
  });

  it('admit - no limits: admitted without counting anything', async () => {
    const { store } = clocked();
    expect(await store.admit({ keyId: 'k', keyLimits: undefined, tenant: 't', tenantLimits: limits({}) })).toEqual({
      admitted: true,
      refusedBy: '',
      retryAfterMs: 0,
      states: [],
      costModeReason: '',
    });
  });

  it('admit - tokens and spend come from usage batches, once per batch id; a full budget refuses until the period ends', async () => {
    const { store, at } = clocked();
    const req = { keyId: 'key_a', keyLimits: limits({ tokensPerMinute: 1000 }), tenant: 'acme', tenantLimits: limits({ budgetUsd: 1, budgetPeriod: BudgetPeriod.BUDGET_PERIOD_DAY }) };
    expect(await store.charge(usage('acme', 'key_a', 600, 0.5), 'b1')).toBe(true);
    expect(await store.charge(usage('acme', 'key_a', 600, 0.5), 'b1')).toBe(false); // redelivered: not counted twice
    let r = await store.admit(req);
    expect(r.admitted).toBe(true);
    expect(r.states.find((s) => s.kind === 'tokens')).toMatchObject({ holder: 'key', used: 600, limit: 1000 });
    await store.charge(usage('acme', 'key_a', 500, 0.3), 'b2');
    r = await store.admit(req);
    expect(r).toMatchObject({ admitted: false, refusedBy: 'tokens per minute of key key_a' });
    // Near the budget (0.8 of $1 by default): routed in cost mode, with the reason.
    expect(r.costModeReason).toBe('budget: tenant acme has used 80% of its daily budget ($0.80 of $1.00), so it is routed in cost mode');
    at(T0 + 120_000); // tokens have left the sliding minute
    await store.charge(usage('acme', 'key_a', 10, 0.25, T0 + 120_000), 'b3');
    r = await store.admit(req);
    expect(r).toMatchObject({ admitted: false, refusedBy: 'daily budget of $1.00 of tenant acme' });
    expect(r.retryAfterMs).toBe(Date.UTC(2026, 11, 3) - (T0 + 120_000));
    at(Date.UTC(2026, 11, 3, 0, 0, 1)); // a new day
    expect((await store.admit(req)).admitted).toBe(true);
    const u = await store.usage({ tenant: 'acme', keyId: 'key_a' });
    expect(u.tenant).toMatchObject({ spentUsdDay: 0, spentUsdMonth: 1.05 });
  });

  it('limits - tenant limits are stored, cleared with none, and validated', async () => {
    const { store } = clocked();
    await store.setTenantLimits({ tenant: 'acme', limits: limits({ requestsPerMinute: 10 }) });
    expect((await store.tenantLimits('acme'))?.requestsPerMinute).toBe(10);
    await store.setTenantLimits({ tenant: 'acme', limits: undefined });
    expect(await store.tenantLimits('acme')).toBeUndefined();
    await expect(store.setTenantLimits({ tenant: 'acme', limits: limits({ budgetUsd: -1 }) })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(store.setTenantLimits({ tenant: 'acme', limits: limits({ costModeAt: 2 }) })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(store.setTenantLimits({ tenant: '', limits: limits({ requestsPerMinute: 1 }) })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });
});
