import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { llmTarget } from '@moma/core/rules';
import { connectNatsBus, createLogger, subscribeEvent, type NatsBus } from '@moma/platform';
import { Topics, type UsageEvent } from '@moma/proto';
import { natsUrlForTests, startFakeOpenAI, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { decision, execute, runExecutor, type Running } from './test-helpers.ts';

const nats = await natsUrlForTests();

describe.skipIf(!nats.ok)(`executor - usage events on NATS${nats.ok ? '' : ` (skipped: ${nats.ok ? '' : nats.reason})`}`, () => {
  let bus: NatsBus;
  let fake: FakeOpenAI;
  let exec: Running;
  const received: UsageEvent[] = [];
  const batchSizes: number[] = [];

  beforeAll(async () => {
    const url = nats.ok ? nats.url : '';
    bus = await connectNatsBus({ url, name: 'executor-test', logger: createLogger('executor-test', { level: 'silent' }) });
    await subscribeEvent(bus, Topics.usage, (batch) => {
      received.push(...batch.events);
      batchSizes.push(batch.events.length);
    });
    fake = await startFakeOpenAI({ failModels: ['down'] });
    exec = await runExecutor([{ name: 'local', baseUrl: fake.url, models: ['*'], prices: { paid: { input: 1, output: 3 } } }], { bus });
  });
  afterAll(async () => {
    await exec?.close();
    await fake?.close();
    await bus?.close();
  });

  async function eventFor(sessionId: string): Promise<UsageEvent> {
    for (let i = 0; i < 100; i++) {
      const ev = received.find((e) => e.sessionId === sessionId);
      if (ev) return ev;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no usage event for session ${sessionId} within 2 s`);
  }

  it('executor - publishes a UsageEvent with tokens, cost and the fallback after a call', async () => {
    const sessionId = uniqueId('s');
    const r = await execute(exec.client, { decision: decision([llmTarget('down'), llmTarget('paid')], { sessionId }), messages: [{ role: 'user', content: 'count my tokens' }] });
    expect(r.error).toBeUndefined();
    const ev = await eventFor(sessionId);
    expect(ev.ok).toBe(true);
    expect(ev.target).toEqual(llmTarget('down'));
    expect(ev.usage?.servedBy).toEqual(llmTarget('paid'));
    expect(ev.usage?.failed).toEqual([llmTarget('down')]);
    expect(ev.usage?.completionTokens).toBe(r.usage?.completionTokens);
    expect(ev.usage?.costUsd).toBeCloseTo((r.usage!.promptTokens * 1 + r.usage!.completionTokens * 3) / 1e6, 12);
    expect(Math.abs(ev.atMs - Date.now())).toBeLessThan(10_000);
  });

  it('executor - publishes ok=false when every target failed', async () => {
    const sessionId = uniqueId('s');
    const r = await execute(exec.client, { decision: decision([llmTarget('down')], { sessionId }), messages: [{ role: 'user', content: 'x' }] });
    expect(r.error).toBeDefined();
    const ev = await eventFor(sessionId);
    expect(ev.ok).toBe(false);
    expect(ev.usage?.failed).toEqual([llmTarget('down')]);
    expect(ev.usage?.servedBy).toBeUndefined(); // no target served
  });

  it('executor - the events of concurrent calls leave together, each once', async () => {
    const ids = Array.from({ length: 20 }, () => uniqueId('s'));
    const before = batchSizes.length;
    const results = await Promise.all(ids.map((sessionId) => execute(exec.client, { decision: decision([llmTarget('paid')], { sessionId }), messages: [{ role: 'user', content: 'batch me' }] })));
    expect(results.every((r) => r.error === undefined)).toBe(true);
    for (const id of ids) expect((await eventFor(id)).ok).toBe(true);
    for (const id of ids) expect(received.filter((e) => e.sessionId === id)).toHaveLength(1);
    const batches = batchSizes.slice(before);
    expect(batches.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(20);
    expect(batches.length).toBeLessThan(20);
  });
});
