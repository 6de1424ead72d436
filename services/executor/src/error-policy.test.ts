// The executor's error policy over real gRPC against the testkit's fake OpenAI upstream: several providers per model,
// the attempt cap, one deadline per request, first-byte vs total timeouts, Retry-After and the shared circuit
// breaker (in memory, and across two instances on one Redis), what a request that fails for good reports, and
// client cancellation reaching the provider's socket.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { credentials, status, type Metadata } from '@grpc/grpc-js';
import { llmTarget } from '@moma/core/rules';
import { connectRedisStore, createLogger, MemoryStore, type RedisStore } from '@moma/platform';
import { ExecuteRequest, ExecutorClient } from '@moma/proto';
import { redisUrlForTests, startFakeOpenAI, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { breakerKey, type BreakerState } from './breakers.ts';
import type { AttemptSummary } from './outcome.ts';
import { ATTEMPTS_KEY, RETRY_AFTER_KEY, UPSTREAM_STATUS_KEY } from './server.ts';
import { decision, execute, runExecutor, type Running } from './test-helpers.ts';

const user = (content: string) => [{ role: 'user', content }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The attempts summary the gateway reads from the error's metadata. */
function attemptsOf(md: Metadata | undefined): AttemptSummary[] {
  const raw = md?.get(ATTEMPTS_KEY)[0];
  return raw === undefined ? [] : (JSON.parse(Buffer.from(raw as Buffer).toString('utf8')) as AttemptSummary[]);
}

/** The median of `n` runs' wall times: one scheduling hiccup on a loaded machine does not decide a latency claim. */
async function medianMs(n: number, run: (i: number) => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run(i);
    times.push(performance.now() - t0);
  }
  return times.sort((x, y) => x - y)[Math.floor(n / 2)]!;
}

async function until(check: () => boolean, ms = 2_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return;
    await sleep(10);
  }
  throw new Error('condition not met in time');
}

describe('executor - error policy', () => {
  const fakes: FakeOpenAI[] = [];
  const running: Running[] = [];
  const fake = async (opts: Parameters<typeof startFakeOpenAI>[0] = {}) => {
    const f = await startFakeOpenAI(opts);
    fakes.push(f);
    return f;
  };
  const executor = async (...args: Parameters<typeof runExecutor>) => {
    const r = await runExecutor(...args);
    running.push(r);
    return r;
  };
  afterEach(async () => {
    for (const r of running.splice(0)) await r.close();
    for (const f of fakes.splice(0)) await f.close();
  });

  it('error policy - a 400 is one upstream call: no second provider, no next target', async () => {
    const a = await fake();
    const b = await fake();
    a.setFailing(['m'], { status: 400 });
    const exec = await executor([
      { name: 'a', baseUrl: a.url, models: ['m'] },
      { name: 'b', baseUrl: b.url, models: ['m', 'n'] },
    ]);
    const r = await execute(exec.client, { decision: decision([llmTarget('m'), llmTarget('n')]), messages: user('bad request') });
    expect(r.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(r.error?.metadata.get(UPSTREAM_STATUS_KEY)).toEqual(['400']);
    expect(attemptsOf(r.error?.metadata)).toEqual([{ target: 'llm:m', provider: 'a', outcome: 'http_400' }]);
    expect(r.fallbacks).toEqual([]);
    expect(a.calls()).toBe(1);
    expect(b.calls()).toBe(0);
  });

  it('error policy - a retryable failure tries the same model on its next provider before the next-ranked model', async () => {
    const a = await fake({ failModels: ['m'] });
    const b = await fake();
    const exec = await executor([
      { name: 'a', baseUrl: a.url, models: ['m', 'n'] },
      { name: 'b', baseUrl: b.url, models: ['*'] },
    ]);
    const r = await execute(exec.client, { decision: decision([llmTarget('m'), llmTarget('n')]), messages: user('hi') });
    expect(r.error).toBeUndefined();
    expect(r.text).toBe('[m] hi');
    // Same target, another provider: no `fallback` event and nothing in `failed`.
    expect(r.fallbacks).toEqual([]);
    expect(r.usage?.servedBy).toEqual(llmTarget('m'));
    expect(r.usage?.failed).toEqual([]);
    expect([a.calls('m'), b.calls('m'), a.calls('n')]).toEqual([1, 1, 0]);
  });

  it('error policy - 429 with Retry-After: the same model answers from the second provider, and the limited one is skipped until the time passes', async () => {
    const a = await fake();
    const b = await fake();
    a.setFailing(['m'], { status: 429, retryAfterSeconds: 1 });
    const exec = await executor([
      { name: 'a', baseUrl: a.url, models: ['m'] },
      { name: 'b', baseUrl: b.url, models: ['m'] },
    ]);
    const first = await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('one') });
    expect(first.error).toBeUndefined();
    expect(first.text).toBe('[m] one');
    expect([a.calls('m'), b.calls('m')]).toEqual([1, 1]);
    await exec.handle.breakers.settle();
    const stored = await exec.ctx.store.get<BreakerState>(breakerKey('a', 'm'));
    expect(stored?.value).toMatchObject({ reason: 'retry_after', failures: 1 });

    a.setFailing([]);
    const second = await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('two') });
    expect(second.text).toBe('[m] two');
    expect([a.calls('m'), b.calls('m')]).toEqual([1, 2]);

    await sleep(1_100);
    const third = await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('three') });
    expect(third.text).toBe('[m] three');
    expect([a.calls('m'), b.calls('m')]).toEqual([2, 2]);
    // Its success cleared the state.
    await exec.handle.breakers.settle();
    expect(await exec.ctx.store.get(breakerKey('a', 'm'))).toBeUndefined();
  });

  it('error policy - a rate-limited only provider: UNAVAILABLE with moma-retry-after, then skipped without a call', async () => {
    const a = await fake();
    a.setFailing(['m'], { status: 429, retryAfterSeconds: 7 });
    const exec = await executor([{ name: 'a', baseUrl: a.url, models: ['m'] }]);
    const r = await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('x') });
    expect(r.error?.code).toBe(status.UNAVAILABLE);
    expect(r.error?.metadata.get(RETRY_AFTER_KEY)).toEqual(['7']);
    expect(r.error?.metadata.get(UPSTREAM_STATUS_KEY)).toEqual([]);
    expect(attemptsOf(r.error?.metadata)).toEqual([{ target: 'llm:m', provider: 'a', outcome: 'http_429' }]);

    const again = await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('x') });
    expect(again.error?.code).toBe(status.UNAVAILABLE);
    expect(again.error?.details).toContain('provider a skipped: rate-limited');
    expect(Number(again.error?.metadata.get(RETRY_AFTER_KEY)[0])).toBeGreaterThanOrEqual(6);
    expect(attemptsOf(again.error?.metadata)).toEqual([{ target: 'llm:m', provider: 'a', outcome: 'skipped_rate_limited' }]);
    expect(a.calls('m')).toBe(1);
  });

  it('error policy - a hanging provider opens its breaker after 5 timeouts; then requests skip it without waiting', async () => {
    const a = await fake();
    const b = await fake();
    a.setHanging(['m']);
    const exec = await executor(
      [
        { name: 'a', baseUrl: a.url, models: ['m'] },
        { name: 'b', baseUrl: b.url, models: ['m'] },
      ],
      { firstTokenTimeoutMs: 300 },
    );
    for (let i = 0; i < 5; i++) {
      const r = await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user(`slow ${i}`) });
      expect(r.text).toBe(`[m] slow ${i}`);
      expect(r.usage?.latencyMs).toBeGreaterThan(250);
    }
    expect(a.calls('m')).toBe(5);
    const median = await medianMs(5, async (i) => {
      const r = await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user(`fast ${i}`) });
      expect(r.text).toBe(`[m] fast ${i}`);
    });
    // Skipped, not timed out: no call reaches it, and no answer waits for its 300 ms first-byte timeout.
    expect(median).toBeLessThan(300);
    expect(a.calls('m')).toBe(5);
  });

  it('error policy - every candidate behind an open breaker: UNAVAILABLE at once naming the breakers, with retry-after', async () => {
    const a = await fake();
    a.setHanging(['m', 'n']);
    const exec = await executor([{ name: 'a', baseUrl: a.url, models: ['m', 'n'] }], { firstTokenTimeoutMs: 50, breaker: { failures: 2 } });
    for (let i = 0; i < 2; i++) {
      const r = await execute(exec.client, { decision: decision([llmTarget('m'), llmTarget('n')]), messages: user('x') });
      // The last attempt timed out: 504 material.
      expect(r.error?.code).toBe(status.DEADLINE_EXCEEDED);
      expect(attemptsOf(r.error?.metadata).map((x) => x.outcome)).toEqual(['timeout_first_byte', 'timeout_first_byte']);
    }
    let r = await execute(exec.client, { decision: decision([llmTarget('m'), llmTarget('n')]), messages: user('x') });
    const median = await medianMs(5, async () => {
      r = await execute(exec.client, { decision: decision([llmTarget('m'), llmTarget('n')]), messages: user('x') });
    });
    // No attempt is made, so nothing waits for the 50 ms first-byte timeout of the two candidates.
    expect(median).toBeLessThan(100);
    expect(r.error?.code).toBe(status.UNAVAILABLE);
    expect(r.error?.details).toContain('circuit breaker open');
    expect(r.fallbacks).toEqual([]);
    expect(attemptsOf(r.error?.metadata)).toEqual([
      { target: 'llm:m', provider: 'a', outcome: 'skipped_breaker_open' },
      { target: 'llm:n', provider: 'a', outcome: 'skipped_breaker_open' },
    ]);
    expect(Number(r.error?.metadata.get(RETRY_AFTER_KEY)[0])).toBeGreaterThanOrEqual(29);
    expect(a.calls()).toBe(4);
  });

  it('error policy - after the cool-off a half-open breaker lets one probe through; its success closes it', async () => {
    const a = await fake({ failModels: ['m'] });
    const b = await fake();
    const exec = await executor(
      [
        { name: 'a', baseUrl: a.url, models: ['m'] },
        { name: 'b', baseUrl: b.url, models: ['m'] },
      ],
      { breaker: { failures: 2, cooldownMs: 1_000 } },
    );
    for (let i = 0; i < 2; i++) await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('x') });
    expect(a.calls('m')).toBe(2);
    await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('x') });
    expect(a.calls('m')).toBe(2);
    await sleep(1_100);
    a.setFailing([]);
    const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => execute(exec.client, { decision: decision([llmTarget('m')]), messages: user(`p${i}`) })));
    expect(burst.every((r) => r.error === undefined)).toBe(true);
    expect(a.calls('m')).toBe(3);
    expect(b.calls('m')).toBe(2 + 1 + 4);
    await exec.handle.breakers.settle();
    await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('closed') });
    expect(a.calls('m')).toBe(4);
  });

  it('error policy - at most MOMA_MAX_ATTEMPTS upstream calls per request, across targets and providers', async () => {
    const a = await fake({ failModels: ['*'] });
    const b = await fake({ failModels: ['*'] });
    const exec = await executor([
      { name: 'a', baseUrl: a.url, models: ['m1', 'm2', 'm3'] },
      { name: 'b', baseUrl: b.url, models: ['m1', 'm2', 'm3'] },
    ]);
    const r = await execute(exec.client, { decision: decision([llmTarget('m1'), llmTarget('m2'), llmTarget('m3')]), messages: user('x') });
    expect(a.calls() + b.calls()).toBe(3);
    expect(r.error?.code).toBe(status.UNAVAILABLE);
    expect(r.error?.details).toMatch(/^gave up after 3 attempt\(s\) \(MOMA_MAX_ATTEMPTS=3\)/);
    // The last provider answer was a 5xx: the gateway answers 502.
    expect(r.error?.metadata.get(UPSTREAM_STATUS_KEY)).toEqual(['502']);
    expect(attemptsOf(r.error?.metadata)).toEqual([
      { target: 'llm:m1', provider: 'a', outcome: 'http_500' },
      { target: 'llm:m1', provider: 'b', outcome: 'http_500' },
      { target: 'llm:m2', provider: 'a', outcome: 'http_500' },
    ]);
    // A fallback event for m1 (m2 was tried); none for m2, after which nothing was called.
    expect(r.fallbacks).toEqual([llmTarget('m1')]);
    expect(r.usage).toBeUndefined();

    const one = await executor([{ name: 'a', baseUrl: a.url, models: ['m1', 'm2'] }], { maxAttempts: 1 });
    const before = a.calls();
    const s = await execute(one.client, { decision: decision([llmTarget('m1'), llmTarget('m2')]), messages: user('x') });
    expect(a.calls() - before).toBe(1);
    expect(s.fallbacks).toEqual([]);
    expect(s.error?.details).toContain('MOMA_MAX_ATTEMPTS=1');
  });

  it('error policy - a client retry policy on UNAVAILABLE (the gateway has one) does not run a failed request again', async () => {
    const a = await fake({ failModels: ['m'] });
    const exec = await executor([{ name: 'a', baseUrl: a.url, models: ['m'] }]);
    const serviceConfig = {
      methodConfig: [
        {
          name: [{ service: 'moma.v1.Executor' }],
          retryPolicy: { maxAttempts: 3, initialBackoff: '0.01s', maxBackoff: '0.2s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
        },
      ],
    };
    const retrying = new ExecutorClient(`127.0.0.1:${exec.handle.port}`, credentials.createInsecure(), { 'grpc.service_config': JSON.stringify(serviceConfig) });
    try {
      const r = await execute(retrying, { decision: decision([llmTarget('m')]), messages: user('x') });
      expect(r.error?.code).toBe(status.UNAVAILABLE);
      expect(a.calls('m')).toBe(1);
    } finally {
      retrying.close();
    }
  });

  it('error policy - the failure summary never carries provider text, and the message is scrubbed of keys', async () => {
    const a = await fake();
    a.setFailing(['m'], { status: 503, body: { error: { message: 'upstream said: your key sk-live-abcdefghijklmnop is wrong, Bearer abcdefghijklmnop' } } });
    const exec = await executor([{ name: 'a', baseUrl: a.url, apiKey: 'super-secret-key', models: ['m'] }]);
    const r = await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('x') });
    expect(r.error?.code).toBe(status.UNAVAILABLE);
    expect(r.error?.metadata.get(UPSTREAM_STATUS_KEY)).toEqual(['502']);
    expect(r.error?.details).toContain('HTTP 503');
    expect(r.error?.details).not.toContain('abcdefghijklmnop');
    expect(JSON.stringify(attemptsOf(r.error?.metadata))).toBe('[{"target":"llm:m","provider":"a","outcome":"http_503"}]');
  });

  it('error policy - a 1.5 s non-streaming answer whose headers come at once succeeds with a 1 s first-byte timeout', async () => {
    // headersFirst: the fake sends its 200 headers on arrival and the JSON after latencyMs.
    const slow = await fake({ latencyMs: 1_500, headersFirst: true });
    const exec = await executor([{ name: 'slow', baseUrl: slow.url, models: ['m'] }], { firstTokenTimeoutMs: 1_000 });
    const body = Buffer.from(JSON.stringify({ model: 'm', messages: user('take your time'), stream: false }));
    const [typed, forwarded] = await Promise.all([
      execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('take your time'), stream: false }),
      execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('take your time'), stream: false, body }),
    ]);
    expect(typed.error).toBeUndefined();
    expect(typed.events.at(-1)?.text).toBe('[m] take your time');
    expect(typed.usage?.latencyMs).toBeGreaterThan(1_400);
    expect(forwarded.error).toBeUndefined();
    expect(JSON.parse(Buffer.from(forwarded.events.at(-1)!.body).toString('utf8')).choices[0].message.content).toBe('[m] take your time');
  });

  it('error policy - first byte is the response headers: the same answer without early headers times out', async () => {
    const slow = await fake({ latencyMs: 1_500 });
    const exec = await executor([{ name: 'slow', baseUrl: slow.url, models: ['m'] }], { firstTokenTimeoutMs: 300 });
    const r = await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('x'), stream: false });
    expect(r.error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(r.error?.details).toContain('no response within 300 ms');
    expect(attemptsOf(r.error?.metadata)).toEqual([{ target: 'llm:m', provider: 'slow', outcome: 'timeout_first_byte' }]);
  });

  it('error policy - EXECUTOR_TOTAL_TIMEOUT_MS bounds a non-streaming answer after its headers came', async () => {
    const slow = await fake({ latencyMs: 1_500, headersFirst: true });
    const exec = await executor([{ name: 'slow', baseUrl: slow.url, models: ['m'] }], { firstTokenTimeoutMs: 1_000, totalTimeoutMs: 400 });
    const t0 = performance.now();
    const body = Buffer.from(JSON.stringify({ model: 'm', messages: user('x') }));
    const r = await execute(exec.client, { decision: decision([llmTarget('m')]), messages: user('x'), stream: false, body });
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(r.error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(r.error?.details).toContain('answer not complete within 400 ms');
    expect(attemptsOf(r.error?.metadata)).toEqual([{ target: 'llm:m', provider: 'slow', outcome: 'timeout_total' }]);
    // The abandoned answer's socket was closed.
    await until(() => slow.aborted('m') === 1);
  });

  it('error policy - one deadline per request: EXECUTOR_REQUEST_TIMEOUT_MS ends it whatever is left to try', async () => {
    const a = await fake();
    a.setHanging(['*']);
    const exec = await executor(
      [
        { name: 'a', baseUrl: a.url, models: ['m', 'n'] },
        { name: 'a2', baseUrl: a.url, models: ['m', 'n'] },
      ],
      { firstTokenTimeoutMs: 400, requestTimeoutMs: 600 },
    );
    const t0 = performance.now();
    const r = await execute(exec.client, { decision: decision([llmTarget('m'), llmTarget('n')]), messages: user('x') });
    const took = performance.now() - t0;
    // Three attempts of 400 ms each would take 1.2 s.
    expect(took).toBeGreaterThan(580);
    expect(took).toBeLessThan(1_000);
    expect(r.error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(r.error?.details).toMatch(/^request deadline of 600 ms exceeded \(EXECUTOR_REQUEST_TIMEOUT_MS\)/);
    expect(attemptsOf(r.error?.metadata)).toEqual([
      { target: 'llm:m', provider: 'a', outcome: 'timeout_first_byte' },
      { target: 'llm:m', provider: 'a2', outcome: 'deadline' },
    ]);
    // The request deadline is not the provider's fault: only the first-byte timeout counted against a.
    await exec.handle.breakers.settle();
    expect((await exec.ctx.store.get<BreakerState>(breakerKey('a', 'm')))?.value.failures).toBe(1);
    expect(await exec.ctx.store.get(breakerKey('a2', 'm'))).toBeUndefined();
  });

  it.each([
    ['a forwarded stream', { stream: true, forward: true }],
    ['a forwarded non-streaming call', { stream: false, forward: true }],
    ['a typed stream', { stream: true, forward: false }],
    ['a typed non-streaming call', { stream: false, forward: false }],
  ])('error policy - cancelling the gRPC call closes the provider socket of %s', async (_name, { stream, forward }) => {
    const a = await fake();
    a.setHanging(['m']);
    const exec = await executor([{ name: 'a', baseUrl: a.url, models: ['m'] }], { breaker: { failures: 1 } });
    const body = forward ? Buffer.from(JSON.stringify({ model: 'm', messages: user('x'), stream })) : Buffer.alloc(0);
    const call = exec.client.execute(ExecuteRequest.fromPartial({ decision: decision([llmTarget('m')]), messages: user('x'), stream, body }));
    const ended = new Promise<number | undefined>((resolve) => {
      call.on('error', (e: { code?: number }) => resolve(e.code));
      call.on('end', () => resolve(undefined));
    });
    call.on('data', () => undefined);
    await until(() => a.calls('m') === 1);
    call.cancel();
    expect(await ended).toBe(status.CANCELLED);
    await until(() => a.aborted('m') === 1);
    // A client going away says nothing about the provider: no failure counted.
    await exec.handle.breakers.settle();
    expect(await exec.ctx.store.get(breakerKey('a', 'm'))).toBeUndefined();
  });

  it('error policy - a non-streaming answer abandoned by the client after its headers also closes the socket', async () => {
    const a = await fake({ latencyMs: 2_000, headersFirst: true });
    const exec = await executor([{ name: 'a', baseUrl: a.url, models: ['m'] }]);
    const body = Buffer.from(JSON.stringify({ model: 'm', messages: user('x') }));
    const call = exec.client.execute(ExecuteRequest.fromPartial({ decision: decision([llmTarget('m')]), messages: user('x'), stream: false, body }));
    call.on('error', () => undefined);
    await until(() => a.calls('m') === 1);
    await sleep(100);
    call.cancel();
    await until(() => a.aborted('m') === 1);
  });
});

const redis = await redisUrlForTests();

describe.skipIf(!redis.ok)(`executor - breakers shared through Redis${redis.ok ? '' : ` (skipped: ${redis.ok ? '' : redis.reason})`}`, () => {
  const prefix = `${uniqueId('exec-breakers')}:`;
  let stores: RedisStore[] = [];
  let a: FakeOpenAI;
  let b: FakeOpenAI;
  let one: Running;
  let two: Running;

  beforeAll(async () => {
    const url = redis.ok ? redis.url : '';
    const logger = createLogger('breakers-redis', { level: 'silent' });
    // Two connections, as two executor processes would have.
    stores = [await connectRedisStore({ url, keyPrefix: prefix, logger }), await connectRedisStore({ url, keyPrefix: prefix, logger })];
    a = await startFakeOpenAI({ failModels: ['m'] });
    b = await startFakeOpenAI();
    const providers = [
      { name: 'a', baseUrl: a.url, models: ['m'] },
      { name: 'b', baseUrl: b.url, models: ['m'] },
    ];
    one = await runExecutor(providers, { store: stores[0], breaker: { failures: 3 } });
    two = await runExecutor(providers, { store: stores[1], breaker: { failures: 3 } });
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await stores[0]?.delete(breakerKey('a', 'm')).catch(() => undefined);
    for (const s of stores) await s.close();
    await a?.close();
    await b?.close();
  });

  it('breakers redis - a breaker one instance opened is open for the other: it skips the provider without calling it', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await execute(one.client, { decision: decision([llmTarget('m')]), messages: user(`one ${i}`) });
      expect(r.text).toBe(`[m] one ${i}`);
    }
    expect(a.calls('m')).toBe(3);
    await one.handle.breakers.settle();
    const stored = await stores[1]!.get<BreakerState>(breakerKey('a', 'm'));
    expect(stored?.value).toMatchObject({ failures: 3, reason: 'breaker' });
    expect(await stores[1]!.ttl(breakerKey('a', 'm'))).toBeGreaterThan(25); // the cool-off (30 s) or more when written; Redis counts it down meanwhile

    for (let i = 0; i < 3; i++) {
      const r = await execute(two.client, { decision: decision([llmTarget('m')]), messages: user(`two ${i}`) });
      expect(r.text).toBe(`[m] two ${i}`);
    }
    expect(a.calls('m')).toBe(3);
    expect(b.calls('m')).toBe(6);
  });

  it('breakers redis - an in-memory store shared by two instances (embedded mode) behaves the same', async () => {
    const store = new MemoryStore();
    const f = await startFakeOpenAI({ failModels: ['x'] });
    const g = await startFakeOpenAI();
    const providers = [
      { name: 'f', baseUrl: f.url, models: ['x'] },
      { name: 'g', baseUrl: g.url, models: ['x'] },
    ];
    const e1 = await runExecutor(providers, { store, breaker: { failures: 1 } });
    const e2 = await runExecutor(providers, { store: store.connect(), breaker: { failures: 1 } });
    try {
      await execute(e1.client, { decision: decision([llmTarget('x')]), messages: user('a') });
      await e1.handle.breakers.settle();
      await execute(e2.client, { decision: decision([llmTarget('x')]), messages: user('b') });
      expect(f.calls('x')).toBe(1);
      expect(g.calls('x')).toBe(2);
    } finally {
      await e1.close();
      await e2.close();
      await f.close();
      await g.close();
    }
  });
});
