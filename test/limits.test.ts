// Rate limits and budgets on the real system (every service its own process, real NATS with JetStream and Redis),
// across two gateway instances: a key's requests per minute are counted once for both; tokens and spend come from
// the executor's usage events; a tenant near its budget is routed in cost mode and says so; a spent budget is 429
// with Retry-After and OpenAI-style x-ratelimit-* headers, which the official SDK reads.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeys } from '@moma/cli';
import { RouteOptions, RouterClient } from '@moma/proto';
import { startFakeOpenAI, testInfra, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { startExtraGateway, startSystemOnPrivateNats, type System } from './support/system.ts';

const infra = await testInfra();
const ADMIN = `admin-${uniqueId()}-0123456789abcdef`;
// The provider prices every model the committed router knows, as a deployment does, so calls have a cost.
const manifest = JSON.parse(readFileSync(new URL('../artifacts/default/manifest.json', import.meta.url), 'utf8')) as {
  models: Array<{ id: string; inputPricePerMTok: number; outputPricePerMTok: number }>;
};
const prices = Object.fromEntries(manifest.models.map((m) => [m.id, { input: m.inputPricePerMTok, output: m.outputPricePerMTok }]));

interface UsageBody {
  tenant: string;
  usage: { requests_per_minute: number; tokens_per_minute: number; spent_usd_day: number; spent_usd_month: number };
  limits: Record<string, unknown> | null;
  key?: { id: string; usage: UsageBody['usage'] };
}

describe.skipIf(!infra.ok)(`limits - rate limits and budgets across gateways${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  let fake: FakeOpenAI;
  let sys: System;
  let second: Awaited<ReturnType<typeof startExtraGateway>>;
  const keyPrefix = `limits-${uniqueId()}:`;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    sys = await startSystemOnPrivateNats({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix,
      providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'], prices }],
      env: { MOMA_ADMIN_KEY: ADMIN, MOMA_KEY_CACHE_MS: '100', EXECUTOR_USAGE_BATCH_MS: '10' },
    });
    second = await startExtraGateway(sys, sys.env.NATS_URL!);
  }, 90_000);

  afterAll(async () => {
    await second?.stop();
    await sys?.stop();
    await fake?.close();
  });

  const call = (base: string, method: string, path: string, key: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const makeKey = async (tenant: string, limits?: Record<string, unknown>) => {
    const res = await call(sys.httpUrl, 'POST', '/v1/admin/keys', ADMIN, { tenant, scopes: ['route'], ...(limits ? { limits } : {}) });
    const body = (await res.json()) as { id: string; secret: string; limits: unknown };
    expect(res.status, JSON.stringify(body)).toBe(201);
    return body;
  };
  const chat = (base: string, key: string, content: string) =>
    call(base, 'POST', '/v1/chat/completions', key, { model: 'moma/auto', messages: [{ role: 'user', content }] });
  const usage = async (key: string): Promise<UsageBody> => (await (await call(sys.httpUrl, 'GET', '/v1/usage', key)).json()) as UsageBody;
  /** Polls /v1/usage until `done` holds (usage events are consumed asynchronously), at most 10 s. */
  const usageUntil = async (key: string, done: (u: UsageBody) => boolean): Promise<UsageBody> => {
    const deadline = Date.now() + 10_000;
    let u = await usage(key);
    while (!done(u) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      u = await usage(key);
    }
    return u;
  };

  it('limits - requests per minute are counted once across two gateways; the rest are 429 with Retry-After and x-ratelimit-*', async () => {
    const key = await makeKey(`rpm-${uniqueId()}`, { requests_per_minute: 6 });
    expect(key.limits).toMatchObject({ requests_per_minute: 6, tokens_per_minute: 0, budget_usd: 0 });
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await chat(i % 2 ? second.httpUrl : sys.httpUrl, key.secret, `question ${i}`));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(6);
    expect(limited).toHaveLength(4);
    expect(ok.map((r) => r.headers.get('x-ratelimit-remaining-requests'))).toEqual(['5', '4', '3', '2', '1', '0']);
    expect(ok[0]!.headers.get('x-ratelimit-limit-requests')).toBe('6');
    const refused = limited[0]!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(120);
    expect(Number(refused.headers.get('retry-after-ms'))).toBeGreaterThan(0);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const body = (await refused.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('rate_limit_error');
    expect(body.error.message).toContain(`requests per minute of key ${key.id}`);
    // The official SDK surfaces it as a RateLimitError (429), after no retry.
    const openai = new OpenAI({ baseURL: `${second.httpUrl}/v1`, apiKey: key.secret, maxRetries: 0 });
    await expect(openai.chat.completions.create({ model: 'moma/auto', messages: [{ role: 'user', content: 'one more' }] })).rejects.toMatchObject({
      status: 429,
    });
    // The gRPC door shares the count: RESOURCE_EXHAUSTED, naming the limit.
    const router = new RouterClient(sys.grpcAddr, grpc.credentials.createInsecure());
    try {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${key.secret}`);
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        router.route({ sessionId: '', messages: [{ role: 'user', content: 'hi' }], options: RouteOptions.fromPartial({}), switchTo: '' }, md, (e) => resolve(e)),
      );
      expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(err?.details).toContain(`requests per minute of key ${key.id}`);
    } finally {
      router.close();
    }
    // Another tenant's key is not affected.
    const other = await makeKey(`rpm-other-${uniqueId()}`, { requests_per_minute: 6 });
    expect((await chat(second.httpUrl, other.secret, 'hello')).status).toBe(200);
    // Provider rate-limit headers never reach a limited caller: the x-ratelimit-* it sees are MoMA's.
    expect(ok[0]!.headers.get('x-ratelimit-limit-tokens')).toBeNull();
  });

  it('limits - tokens per minute are charged from the executor usage; a key over them is refused', async () => {
    const key = await makeKey(`tpm-${uniqueId()}`, { tokens_per_minute: 5 });
    const first = await chat(sys.httpUrl, key.secret, 'Tell me about the history of the printing press in Europe.');
    expect(first.status).toBe(200);
    const { usage: answerUsage } = (await first.json()) as { usage: { total_tokens: number } };
    const u = await usageUntil(key.secret, (x) => (x.key?.usage.tokens_per_minute ?? 0) > 0);
    expect(u.key?.usage.tokens_per_minute).toBe(answerUsage.total_tokens);
    const refused = await chat(second.httpUrl, key.secret, 'and again');
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(`tokens per minute of key ${key.id}`);
  });

  it('limits - a tenant near its budget is routed in cost mode (the reason says so); a spent budget is 429 until the period ends', async () => {
    const tenant = `budget-${uniqueId()}`;
    const key = await makeKey(tenant);
    const first = await chat(sys.httpUrl, key.secret, 'Prove that there are infinitely many primes, step by step.');
    expect(first.status).toBe(200);
    const cost = ((await first.json()) as { moma: { usage: { cost_usd: number } } }).moma.usage.cost_usd;
    expect(cost).toBeGreaterThan(0);
    const spent = await usageUntil(key.secret, (x) => x.usage.spent_usd_day > 0);
    expect(spent.usage.spent_usd_day).toBeCloseTo(cost, 10);
    expect(spent.usage.spent_usd_month).toBeCloseTo(cost, 10);

    // 90% of the budget is spent: still served, in cost mode, and the decision says why.
    const set = await call(sys.httpUrl, 'PUT', `/v1/admin/tenants/${tenant}/limits`, ADMIN, { limits: { budget_usd: cost / 0.9, budget_period: 'day' } });
    expect(set.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300)); // the gateways' key cache (MOMA_KEY_CACHE_MS=100) picks the limits up
    const near = await chat(second.httpUrl, key.secret, 'Prove that there are infinitely many primes, step by step.');
    expect(near.status).toBe(200);
    expect(near.headers.get('x-moma-mode')).toBe('cost');
    const reason = decodeURIComponent(near.headers.get('x-moma-reason') ?? '');
    expect(reason).toMatch(new RegExp(`^budget: tenant ${tenant} has used 90% of its daily budget`));
    expect(Number(near.headers.get('x-moma-budget-limit-usd'))).toBeCloseTo(cost / 0.9, 10);

    // Once the spend reaches the budget, every gateway refuses until the day ends.
    const after = await usageUntil(key.secret, (x) => x.usage.spent_usd_day > cost);
    expect(after.usage.spent_usd_day).toBeGreaterThan(cost);
    await call(sys.httpUrl, 'PUT', `/v1/admin/tenants/${tenant}/limits`, ADMIN, { limits: { budget_usd: after.usage.spent_usd_day, budget_period: 'day' } });
    await new Promise((r) => setTimeout(r, 300));
    for (const base of [sys.httpUrl, second.httpUrl]) {
      const res = await chat(base, key.secret, 'one more');
      expect(res.status).toBe(429);
      const retry = Number(res.headers.get('retry-after'));
      const toMidnight = (Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1) - Date.now()) / 1000;
      expect(Math.abs(retry - toMidnight)).toBeLessThan(5);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(`daily budget of $`);
    }
    // The usage a key sees is its own tenant's only.
    const other = await makeKey(`budget-other-${uniqueId()}`);
    expect((await usage(other.secret)).usage.spent_usd_day).toBe(0);
    // Clearing the limits lets it through again.
    await call(sys.httpUrl, 'PUT', `/v1/admin/tenants/${tenant}/limits`, ADMIN, { limits: null });
    await new Promise((r) => setTimeout(r, 300));
    expect((await chat(sys.httpUrl, key.secret, 'after the budget was lifted')).status).toBe(200);
  });

  it('limits - bad limits are 400 naming the field; only the admin sets them', async () => {
    const bad = await call(sys.httpUrl, 'POST', '/v1/admin/keys', ADMIN, { tenant: 'x', scopes: ['route'], limits: { requests_per_minute: -1 } });
    expect(bad.status).toBe(400);
    const unknown = await call(sys.httpUrl, 'PUT', '/v1/admin/tenants/x/limits', ADMIN, { limits: { per_hour: 3 } });
    expect(unknown.status).toBe(400);
    const key = await makeKey(`nonadmin-${uniqueId()}`);
    expect((await call(sys.httpUrl, 'PUT', '/v1/admin/tenants/x/limits', key.secret, { limits: { budget_usd: 100 } })).status).toBe(403);
  });

  it('limits - moma keys create --rpm and moma keys limits set them from the command line', async () => {
    const lines: string[] = [];
    const io = { env: { MOMA_ADMIN_KEY: ADMIN, MOMA_URL: sys.httpUrl }, out: (l: string) => void lines.push(l), err: (l: string) => void lines.push(`ERR ${l}`) };
    const tenant = `cli-${uniqueId()}`;
    expect(await runKeys(['create', '--tenant', tenant, '--scopes', 'route', '--rpm', '1'], io)).toBe(0);
    expect(lines.find((l) => l.startsWith('limits '))).toContain('requests_per_minute=1');
    const secret = lines.find((l) => l.startsWith('secret '))!.split(/\s+/)[1]!;
    expect((await chat(sys.httpUrl, secret, 'first')).status).toBe(200);
    expect((await chat(second.httpUrl, secret, 'second')).status).toBe(429);
    lines.length = 0;
    expect(await runKeys(['limits', '--tenant', tenant, '--budget', '5', '--period', 'day'], io)).toBe(0);
    expect(lines.join('\n')).toContain('budget_usd=5 budget_period=day');
    expect(await runKeys(['limits', '--tenant', tenant, '--rpm=-3'], io)).toBe(1); // the gateway refuses it, naming the field
    expect(lines.at(-1)).toMatch(/^ERR .*400/);
  });
});
