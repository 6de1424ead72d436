import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { reachable, testInfra, natsUrlForTests } from './infra.ts';

describe('test infra', () => {
  it('infra - reachable tells a listening port from a closed one', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as AddressInfo;
    expect(await reachable(`nats://127.0.0.1:${port}`, 4222)).toBe(true);
    server.close();
    expect(await reachable('redis://127.0.0.1:1', 6379)).toBe(false);
    expect(await reachable('not a url', 1)).toBe(false);
  });

  it('infra - an unreachable URL from the environment gives a skip reason naming the variable', async () => {
    const r = await natsUrlForTests({ NATS_URL: 'nats://127.0.0.1:1' });
    expect(r).toEqual({ ok: false, reason: 'NATS not reachable at NATS_URL=nats://127.0.0.1:1' });
    const infra = await testInfra({ redis: true }, { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(infra).toMatchObject({ ok: false, redisUrl: '', reason: 'Redis not reachable at REDIS_URL=redis://127.0.0.1:1' });
  });

  it('infra - under CI=true a missing service fails instead of skipping', async () => {
    await expect(natsUrlForTests({ NATS_URL: 'nats://127.0.0.1:1', CI: 'true' })).rejects.toThrow(/CI=true and NATS not reachable/);
  });

  it('infra - testInfra reports ok with URLs when the services answer', async () => {
    const infra = await testInfra();
    if (infra.ok) {
      expect(infra.natsUrl).toMatch(/^nats:\/\//);
      expect(infra.redisUrl).toMatch(/^redis:\/\//);
      expect(infra.reason).toBe('');
    } else {
      expect(infra.reason).toMatch(/NATS|Redis/);
    }
  });
});
