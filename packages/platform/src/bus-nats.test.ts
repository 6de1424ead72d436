import { describe, expect, it, afterAll } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { testInfra } from './test-support/infra.ts';
import { connectNatsBus, type NatsBus } from './bus-nats.ts';
import { Code, MomaError } from './errors.ts';
import { EVENTS_STREAM } from './jetstream-events.ts';
import { busContract } from './test-support/bus-contract.ts';
import { EchoCodec, type Echo } from './test-support/codecs.ts';
import { one } from './test-support/service.ts';
import { startTcpProxy } from './test-support/tcp-proxy.ts';

const infra = await testInfra({ nats: true });
const suffix = infra.ok ? '' : ` (skipped: ${infra.reason})`;

function harness(useServices: boolean) {
  return async () => {
    const made: NatsBus[] = [];
    return {
      bus: async (name: string) => {
        const b = await connectNatsBus({ url: infra.natsUrl, name, useServices });
        made.push(b);
        return b;
      },
      cleanup: async () => {
        await Promise.all(made.map((b) => b.close()));
      },
    };
  };
}

describe.skipIf(!infra.ok)(`NatsBus${suffix}`, () => {
  busContract('NatsBus with @nats-io/services', harness(true));
  busContract('NatsBus with plain queue subscriptions', harness(false));

  describe('NatsBus specifics', () => {
    const buses: NatsBus[] = [];
    const bus = async (name: string, useServices = true) => {
      const b = await connectNatsBus({ url: infra.natsUrl, name, useServices });
      buses.push(b);
      return b;
    };
    afterAll(async () => {
      await Promise.all(buses.map((b) => b.close()));
    });

    it('nats bus - events on moma.events.> are persisted in JetStream', async () => {
      const b = await bus('publisher');
      const subject = `moma.events.test.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
      await b.publish(subject, { text: 'usage', n: 3 }, EchoCodec);
      const nc = await connect({ servers: infra.natsUrl });
      try {
        const jsm = await jetstreamManager(nc);
        const stored = await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subject });
        expect(stored).not.toBeNull();
        expect(EchoCodec.decode(stored!.data)).toEqual({ text: 'usage', n: 3 });
        expect(stored!.header.get('traceparent') ?? '').toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      } finally {
        await nc.close();
      }
    });

    it('nats bus - consume on moma.events.> is a durable JetStream consumer: a failed event is redelivered with the same id, and events published while no instance ran arrive when one starts', async () => {
      const pub = await bus('cons-publisher');
      const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
      const subject = `moma.events.test.${tag}`;
      const group = `test-consumer-${tag}`;
      const got: Array<{ text: string; id: string }> = [];
      let failOnce = true;
      const first = await bus('cons-1');
      const sub = await first.consume(subject, group, EchoCodec, async (m, id) => {
        got.push({ text: m.text, id });
        if (m.text === 'flaky' && failOnce) {
          failOnce = false;
          throw new Error('not this time');
        }
      });
      await pub.publish(subject, { text: 'flaky', n: 1 }, EchoCodec);
      const deadline = Date.now() + 10_000;
      while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(got.map((g) => g.text)).toEqual(['flaky', 'flaky']);
      expect(got[0]!.id).toBe(got[1]!.id);
      expect(got[0]!.id).toMatch(new RegExp(`^${EVENTS_STREAM}:\\d+$`));
      await sub.unsubscribe();
      // Nobody consumes now; the event waits in the stream for the group.
      await pub.publish(subject, { text: 'while away', n: 2 }, EchoCodec);
      const later: string[] = [];
      const second = await bus('cons-2');
      const sub2 = await second.consume(subject, group, EchoCodec, async (m) => void later.push(m.text));
      // its own bound: the redelivery above may have used most of the first one on a loaded machine
      const deadline2 = Date.now() + 10_000;
      while (later.length < 1 && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 50));
      expect(later).toEqual(['while away']);
      await sub2.unsubscribe();
      const nc = await connect({ servers: infra.natsUrl });
      try {
        await (await jetstreamManager(nc)).consumers.delete(EVENTS_STREAM, group);
      } finally {
        await nc.close();
      }
    });

    it('nats bus - an event published right after a consumer unsubscribes goes to the next consumer of the group, not to the closed one', async () => {
      // Without the flush in unsubscribe(), 13 of 30 such events went to the closed pull request and waited out
      // ack_wait (30 s); ten rounds make a regression all but certain to show.
      const pub = await bus('race-publisher');
      const b = await bus('race-consumer');
      const nc = await connect({ servers: infra.natsUrl });
      const jsm = await jetstreamManager(nc);
      try {
        for (let round = 0; round < 10; round++) {
          const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}${round}`;
          const subject = `moma.events.test.${tag}`;
          const group = `test-race-${tag}`;
          const first: string[] = [];
          const sub = await b.consume(subject, group, EchoCodec, async (m) => void first.push(m.text));
          await pub.publish(subject, { text: 'before', n: round }, EchoCodec);
          for (const end = Date.now() + 5000; first.length < 1 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
          expect(first).toEqual(['before']);
          await sub.unsubscribe();
          await pub.publish(subject, { text: 'after', n: round }, EchoCodec);
          const next: string[] = [];
          const sub2 = await b.consume(subject, group, EchoCodec, async (m) => void next.push(m.text));
          for (const end = Date.now() + 5000; next.length < 1 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
          await sub2.unsubscribe();
          await jsm.consumers.delete(EVENTS_STREAM, group);
          expect({ round, next }).toEqual({ round, next: ['after'] });
        }
      } finally {
        await nc.close();
      }
    });

    it('nats bus - a served endpoint is discoverable with $SRV.PING', async () => {
      const name = `disc${Date.now().toString(36)}`;
      const b = await bus(name);
      await b.serve(one(name, `moma.test.${name}.x`, EchoCodec, EchoCodec, async (r) => r));
      const reply = await b.nc.request(`$SRV.PING.${name}`, undefined, { timeout: 1000 });
      expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ name, type: 'io.nats.micro.v1.ping_response' });
    });

    it('nats bus - $SRV.INFO lists a service with several endpoints once, with all its endpoints', async () => {
      const name = `info${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
      const b = await bus('info-host');
      const echo = async (r: Echo) => r;
      const [first, second] = [`moma.test.${name}.first`, `moma.test.${name}.second`];
      await b.serve({
        name,
        version: '2.3.4',
        description: 'moma.v1.TestStage',
        endpoints: [
          { name: 'First', subject: first, request: EchoCodec, response: EchoCodec, handler: echo },
          { name: 'Second', subject: second, request: EchoCodec, response: EchoCodec, handler: echo },
        ],
      });
      // Every service instance by that name answers; collect all replies for a moment.
      const replies: unknown[] = [];
      for await (const m of await b.nc.requestMany(`$SRV.INFO.${name}`, undefined, { strategy: 'timer', maxWait: 300 })) {
        replies.push(JSON.parse(new TextDecoder().decode(m.data)));
      }
      expect(replies).toHaveLength(1);
      expect(replies[0]).toMatchObject({ type: 'io.nats.micro.v1.info_response', name, version: '2.3.4', description: 'moma.v1.TestStage' });
      const endpoints = (replies[0] as { endpoints: Array<{ name: string; subject: string; queue_group: string }> }).endpoints;
      expect(endpoints.map((e) => ({ name: e.name, subject: e.subject, queue: e.queue_group }))).toEqual([
        { name: 'First', subject: first, queue: name },
        { name: 'Second', subject: second, queue: name },
      ]);
    });

    it('nats bus - connecting to a NATS that is not there fails fast with UNAVAILABLE', async () => {
      const t0 = performance.now();
      const err = await connectNatsBus({ url: 'nats://127.0.0.1:1', name: 'nobody', connectTimeoutMs: 1000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MomaError);
      expect(err).toMatchObject({ code: Code.UNAVAILABLE });
      expect((err as Error).message).toContain('NATS_URL');
      expect(performance.now() - t0).toBeLessThan(2000);
    });

    it('nats bus - when the connection drops, requests fail fast with UNAVAILABLE instead of hanging', async () => {
      const url = new URL(infra.natsUrl);
      const proxy = await startTcpProxy(url.hostname, Number(url.port) || 4222);
      const client = await connectNatsBus({ url: `nats://127.0.0.1:${proxy.port}`, name: 'cut' });
      buses.push(client);
      const server = await bus('cut-server');
      const subject = `moma.test.cut.${Date.now().toString(36)}`;
      await server.serve(one('cut-server', subject, EchoCodec, EchoCodec, async (r) => r));
      await expect(client.request(subject, { text: 'a', n: 1 }, EchoCodec, EchoCodec)).resolves.toEqual({ text: 'a', n: 1 });
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      const err = await client.request(subject, { text: 'a', n: 1 }, EchoCodec, EchoCodec, { timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: Code.UNAVAILABLE });
      expect(performance.now() - t0).toBeLessThan(500);
    });
  });
});

describe.skipIf(infra.ok)('NatsBus (infrastructure missing)', () => {
  it('nats bus - skipped because NATS is missing', () => {
    expect(infra.reason).not.toBe('');
  });
});

