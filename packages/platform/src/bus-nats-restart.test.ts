// NatsBus against a nats-server this test starts itself (no JetStream, and one it can stop and restart):
// the core-publish fallback and recovery after an outage. Skipped when no nats-server binary is on PATH.
import { describe, expect, it, afterAll } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { connectNatsBus, type NatsBus } from './bus-nats.ts';
import { Code } from './errors.ts';
import { EchoCodec, type Echo } from './test-support/codecs.ts';
import { one } from './test-support/service.ts';
import { freePort, hasBinary as binaryOnPath, sleep, startLocalServer, stopLocalServer } from './test-support/local-server.ts';

const hasBinary = binaryOnPath('nats-server');

const startServer = (port: number): Promise<ChildProcess> =>
  startLocalServer('nats-server', ['-a', '127.0.0.1', '-p', String(port)], `nats://127.0.0.1:${port}`, port);
const stopServer = stopLocalServer;

describe.skipIf(!hasBinary)(`NatsBus with its own nats-server${hasBinary ? '' : ' (skipped: no nats-server binary on PATH)'}`, () => {
  const children: ChildProcess[] = [];
  const buses: NatsBus[] = [];
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
    await Promise.all(children.map(stopServer));
  });

  it('nats bus - without JetStream, events fall back to core publish and still fan out', async () => {
    const port = await freePort();
    children.push(await startServer(port));
    const url = `nats://127.0.0.1:${port}`;
    const sub = await connectNatsBus({ url, name: 'sub', timeoutMs: 300 });
    const pub = await connectNatsBus({ url, name: 'pub', timeoutMs: 300 });
    buses.push(sub, pub);
    const got: Echo[] = [];
    await sub.subscribe('moma.events.usage', EchoCodec, (m) => void got.push(m));
    await pub.publish('moma.events.usage', { text: 'no-js', n: 1 }, EchoCodec);
    await pub.publish('moma.events.usage', { text: 'no-js', n: 2 }, EchoCodec);
    for (let i = 0; i < 100 && got.length < 2; i++) await sleep(10);
    expect(got.map((m) => m.n)).toEqual([1, 2]);
  });

  it('nats bus - during an outage calls fail fast with UNAVAILABLE, and work again after NATS returns', async () => {
    const port = await freePort();
    let server = await startServer(port);
    children.push(server);
    const url = `nats://127.0.0.1:${port}`;
    const svc = await connectNatsBus({ url, name: 'svc' });
    const client = await connectNatsBus({ url, name: 'client' });
    buses.push(svc, client);
    await svc.serve(one('svc', 'moma.test.restart', EchoCodec, EchoCodec, async (r) => ({ text: 'up', n: r.n })));
    await expect(client.request('moma.test.restart', { text: '', n: 1 }, EchoCodec, EchoCodec)).resolves.toEqual({ text: 'up', n: 1 });

    await stopServer(server);
    await sleep(100);
    const t0 = performance.now();
    const err = await client.request('moma.test.restart', { text: '', n: 2 }, EchoCodec, EchoCodec, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Code.UNAVAILABLE });
    expect(performance.now() - t0).toBeLessThan(200);
    expect(client.isHealthy()).toBe(false);

    server = await startServer(port);
    children.push(server);
    let reply: Echo | undefined;
    for (let i = 0; i < 100 && !reply; i++) {
      reply = await client.request('moma.test.restart', { text: '', n: 3 }, EchoCodec, EchoCodec, { timeoutMs: 500 }).catch(() => undefined);
      if (!reply) await sleep(50);
    }
    expect(reply).toEqual({ text: 'up', n: 3 });
    expect(client.isHealthy()).toBe(true);
  });
});
