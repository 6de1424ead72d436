import { describe, expect, it } from 'vitest';
import { testInfra } from './test-support/infra.ts';
import { checkContextHealth, closeServiceContext, createServiceContext } from './context.ts';
import { MemoryBus } from './bus-memory.ts';
import { MemoryStore } from './store-memory.ts';
import { NatsBus } from './bus-nats.ts';
import { RedisStore } from './store-redis.ts';
import { ConfigError } from './config.ts';
import { Code } from './errors.ts';
import { EchoCodec } from './test-support/codecs.ts';
import { one } from './test-support/service.ts';

const infra = await testInfra();
const quiet = { LOG_LEVEL: 'silent' };

describe('service context', () => {
  it('context - without NATS_URL/REDIS_URL the adapters are in memory', async () => {
    const ctx = await createServiceContext('intent', quiet);
    expect(ctx.name).toBe('intent');
    expect(ctx.bus).toBeInstanceOf(MemoryBus);
    expect(ctx.store).toBeInstanceOf(MemoryStore);
    expect(ctx.config.NATS_REQUEST_TIMEOUT_MS).toBe(2000);
    await closeServiceContext(ctx);
  });

  it('context - shared adapters passed in are used and left open on close', async () => {
    const bus = new MemoryBus();
    const store = new MemoryStore();
    const a = await createServiceContext('intent', quiet, { bus: bus.connect(), store });
    const b = await createServiceContext('scoring', quiet, { bus: bus.connect(), store });
    await b.bus.serve(one(b.name, 'moma.test.ctx.x', EchoCodec, EchoCodec, async (r) => r));
    await closeServiceContext(a);
    await expect(b.bus.request('moma.test.ctx.x', { text: 'still', n: 1 }, EchoCodec, EchoCodec)).resolves.toMatchObject({ text: 'still' });
    await expect(store.put('k', 1)).resolves.toBe(1);
  });

  it('context - an invalid environment fails at boot naming the variable', async () => {
    await expect(createServiceContext('x', { ...quiet, NATS_REQUEST_TIMEOUT_MS: '-3' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('context - an unreachable Redis fails boot with UNAVAILABLE', async () => {
    await expect(createServiceContext('x', { ...quiet, REDIS_URL: 'redis://127.0.0.1:1' })).rejects.toMatchObject({ code: Code.UNAVAILABLE });
  });

  it.skipIf(!infra.ok)(`context - with NATS_URL and REDIS_URL the adapters are real${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, async () => {
    const ctx = await createServiceContext('orchestrator', { ...quiet, NATS_URL: infra.natsUrl, REDIS_URL: infra.redisUrl, REDIS_KEY_PREFIX: `moma-test:ctx:${process.pid}:` });
    try {
      expect(ctx.bus).toBeInstanceOf(NatsBus);
      expect(ctx.store).toBeInstanceOf(RedisStore);
      expect(await ctx.store.put('probe', { ok: true }, 5)).toBeGreaterThan(0);
      await ctx.store.delete('probe');
      expect(await checkContextHealth(ctx)).toEqual({ ok: true, details: { bus: true, store: true } });
      await ctx.bus.serve(one(ctx.name, 'moma.test.ctx.metrics', EchoCodec, EchoCodec, async (r) => r));
      await ctx.bus.request('moma.test.ctx.metrics', { text: '', n: 1 }, EchoCodec, EchoCodec);
      // One registry per process: its service label is whichever service created it first in this file.
      expect(await ctx.registry.metrics()).toMatch(/moma_requests_total\{endpoint="moma.test.ctx.metrics",code="OK",service="\w+"\} 1/);
    } finally {
      await closeServiceContext(ctx);
    }
    expect((await checkContextHealth(ctx)).ok).toBe(false);
  });
});
