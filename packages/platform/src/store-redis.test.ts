import { describe, expect, it, afterAll } from 'vitest';
import { testInfra } from './test-support/infra.ts';
import { connectRedisStore, type RedisStore } from './store-redis.ts';
import { Code, MomaError } from './errors.ts';
import { storeContract } from './test-support/store-contract.ts';
import { startTcpProxy } from './test-support/tcp-proxy.ts';

const infra = await testInfra({ redis: true });
const suffix = infra.ok ? '' : ` (skipped: ${infra.reason})`;
const prefix = `moma-test:${process.pid}:${Date.now().toString(36)}:`;

describe.skipIf(!infra.ok)(`RedisStore${suffix}`, () => {
  storeContract('RedisStore', async () => {
    const made: RedisStore[] = [];
    return {
      store: async () => {
        const s = await connectRedisStore({ url: infra.redisUrl, keyPrefix: prefix });
        made.push(s);
        return s;
      },
      advance: (seconds) => new Promise((r) => setTimeout(r, seconds * 1000)),
      cleanup: async () => {
        const keys = await made[0]?.redis.keys(`${prefix}*`);
        if (keys && keys.length > 0) await made[0]!.redis.del(...keys);
        await Promise.all(made.map((s) => s.close()));
      },
    };
  });

  describe('RedisStore specifics', () => {
    const stores: RedisStore[] = [];
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
    });

    it('redis store - the key prefix isolates stores sharing one Redis', async () => {
      const a = await connectRedisStore({ url: infra.redisUrl, keyPrefix: `${prefix}a:` });
      const b = await connectRedisStore({ url: infra.redisUrl, keyPrefix: `${prefix}b:` });
      stores.push(a, b);
      await a.put('session:1', 'from a');
      expect(await b.get('session:1')).toBeUndefined();
      expect(await a.redis.hget(`${prefix}a:session:1`, 'd')).toBe('"from a"');
      await a.delete('session:1');
    });

    it('redis store - connecting to a Redis that is not there fails fast with UNAVAILABLE', async () => {
      const t0 = performance.now();
      const err = await connectRedisStore({ url: 'redis://:secret@127.0.0.1:1', connectTimeoutMs: 1000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MomaError);
      expect(err).toMatchObject({ code: Code.UNAVAILABLE });
      expect((err as Error).message).toContain('REDIS_URL');
      expect((err as Error).message).not.toContain('secret');
      expect(performance.now() - t0).toBeLessThan(2000);
    });

    it('redis store - when Redis goes away, calls fail fast with UNAVAILABLE instead of hanging', async () => {
      const url = new URL(infra.redisUrl);
      const proxy = await startTcpProxy(url.hostname, Number(url.port) || 6379);
      const s = await connectRedisStore({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix: prefix });
      stores.push(s);
      await s.put('down', 1);
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 50));
      for (const op of [() => s.get('down'), () => s.update<number>('down', (n) => (n ?? 0) + 1)]) {
        const t0 = performance.now();
        const err = await op().catch((e: unknown) => e);
        expect(err).toMatchObject({ code: Code.UNAVAILABLE });
        expect(performance.now() - t0).toBeLessThan(500);
      }
    });
  });
});

describe.skipIf(infra.ok)('RedisStore (infrastructure missing)', () => {
  it('redis store - skipped because Redis is missing', () => {
    expect(infra.reason).not.toBe('');
  });
});
