// Two executor processes behind one gateway: calls are balanced over both, and when one is killed under load every
// request that had not started to stream is answered by the other (the gateway's channel retries a call the dead
// instance lost before it sent anything). Every service its own process on real NATS and Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, testInfra, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { startSystemOnPrivateNats, type System } from './support/system.ts';

const infra = await testInfra();

describe.skipIf(!infra.ok)(`executor failover - two executors${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  if (!infra.ok) return;
  let fake: FakeOpenAI;
  let sys: System;
  const keyPrefix = `${uniqueId('failover')}:`;

  beforeAll(async () => {
    // Each completion takes a while, so many calls are in flight on both executors when one dies.
    fake = await startFakeOpenAI({ latencyMs: 60, models: ['*'] });
    sys = await startSystemOnPrivateNats({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix,
      providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'] }],
      extraExecutors: 1,
    });
  }, 90_000);

  afterAll(async () => {
    await sys?.stop();
    await fake?.close();
  });

  const ask = async (i: number) => {
    const res = await fetch(`${sys.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'moma/auto', messages: [{ role: 'user', content: `question ${i}` }], moma: { disable_agents: true } }),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, body: await res.text() };
  };

  it('executor failover - killing one of two executors under load fails no request that had not started streaming', async () => {
    const total = 120;
    const concurrency = 8;
    const results: Array<{ status: number; body: string }> = [];
    let next = 0;
    let killed = false;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          // Kill the second executor a third of the way in, with calls in flight on it.
          if (i === Math.floor(total / 3) && !killed) {
            killed = true;
            sys.extraExecutors[0]!.kill('SIGKILL');
          }
          results.push(await ask(i));
        }
      }),
    );
    const failed = results.filter((r) => r.status !== 200);
    expect(killed).toBe(true);
    expect(failed, failed.slice(0, 3).map((f) => `${f.status} ${f.body}`).join('\n')).toEqual([]);
    expect(results).toHaveLength(total);
  }, 60_000);
});
