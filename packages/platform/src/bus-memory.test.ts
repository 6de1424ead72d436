import { describe, expect, it } from 'vitest';
import { MemoryBus } from './bus-memory.ts';
import { Code } from './errors.ts';
import { busContract } from './test-support/bus-contract.ts';
import { EchoCodec } from './test-support/codecs.ts';
import { one } from './test-support/service.ts';

busContract('MemoryBus', async () => {
  const root = new MemoryBus();
  const made: MemoryBus[] = [];
  return {
    bus: async () => {
      const b = root.connect();
      made.push(b);
      return b;
    },
    cleanup: async () => {
      await Promise.all(made.map((b) => b.close()));
    },
  };
});

describe('MemoryBus specifics', () => {
  it('memory bus - closing one connection leaves the others serving', async () => {
    const root = new MemoryBus();
    const a = root.connect();
    const b = root.connect();
    await a.serve(one('a', 'moma.x.a', EchoCodec, EchoCodec, async (r) => r));
    await b.serve(one('b', 'moma.x.b', EchoCodec, EchoCodec, async (r) => r));
    await a.close();
    await expect(root.request('moma.x.b', { text: 'ok', n: 1 }, EchoCodec, EchoCodec)).resolves.toEqual({ text: 'ok', n: 1 });
    await expect(root.request('moma.x.a', { text: '', n: 0 }, EchoCodec, EchoCodec)).rejects.toMatchObject({ code: Code.UNAVAILABLE });
  });

  it('memory bus - wildcard subscriptions match like NATS', async () => {
    const bus = new MemoryBus();
    const got: string[] = [];
    await bus.subscribe('moma.events.>', EchoCodec, (m) => void got.push(m.text));
    await bus.subscribe('moma.events.*.deep', EchoCodec, (m) => void got.push(`deep:${m.text}`));
    await bus.publish('moma.events.usage', { text: 'u', n: 0 }, EchoCodec);
    await bus.publish('moma.events.x.deep', { text: 'd', n: 0 }, EchoCodec);
    await bus.publish('moma.other', { text: 'no', n: 0 }, EchoCodec);
    await new Promise((r) => setTimeout(r, 20));
    expect(got.sort()).toEqual(['d', 'deep:d', 'u']);
  });
});
