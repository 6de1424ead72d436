// RedisStore against a redis-server this test starts itself, so it can stop and restart it: fast UNAVAILABLE
// during the outage and recovery after. Skipped when no redis-server binary is on PATH.
import { describe, expect, it, afterAll } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { connectRedisStore, type RedisStore } from './store-redis.ts';
import { Code } from './errors.ts';
import { freePort, hasBinary as binaryOnPath, sleep, startLocalServer, stopLocalServer } from './test-support/local-server.ts';

const hasBinary = binaryOnPath('redis-server');

const startServer = (port: number): Promise<ChildProcess> =>
  startLocalServer('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], `redis://127.0.0.1:${port}`, port);
const stopServer = stopLocalServer;

describe.skipIf(!hasBinary)(`RedisStore with its own redis-server${hasBinary ? '' : ' (skipped: no redis-server binary on PATH)'}`, () => {
  const children: ChildProcess[] = [];
  let store: RedisStore | undefined;
  afterAll(async () => {
    await store?.close();
    await Promise.all(children.map(stopServer));
  });

  it('redis store - during an outage calls fail fast with UNAVAILABLE, and work again after Redis returns', async () => {
    const port = await freePort();
    let server = await startServer(port);
    children.push(server);
    store = await connectRedisStore({ url: `redis://127.0.0.1:${port}` });
    await store.put('session:1', { turns: 1 });
    expect(store.isHealthy()).toBe(true);

    await stopServer(server);
    await sleep(50);
    for (const op of [() => store!.get('session:1'), () => store!.put('session:1', { turns: 2 }), () => store!.list('session:')]) {
      const t0 = performance.now();
      await expect(op()).rejects.toMatchObject({ code: Code.UNAVAILABLE });
      expect(performance.now() - t0).toBeLessThan(200);
    }
    expect(store.isHealthy()).toBe(false);

    server = await startServer(port);
    children.push(server);
    let version = 0;
    for (let i = 0; i < 100 && version === 0; i++) {
      version = await store.put('session:1', { turns: 3 }).catch(() => 0);
      if (version === 0) await sleep(50);
    }
    // The restarted server kept no data (no persistence), so this is a fresh key.
    expect(version).toBe(1);
    expect(await store.get('session:1')).toEqual({ value: { turns: 3 }, version: 1 });
  });
});
