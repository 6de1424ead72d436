// The behaviour every Bus must have, run against MemoryBus and NatsBus (both serving modes).
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Bus } from '../contracts.ts';
import { Code, MomaError } from '../errors.ts';
import { EchoCodec, RejectingCodec, type Echo } from './codecs.ts';
import { one } from './service.ts';

export interface BusHarness {
  /** A bus on the shared backend (each call may be a separate connection). */
  bus(name: string): Promise<Bus>;
  /** Closes everything the harness created. */
  cleanup(): Promise<void>;
}

let uniq = 0;
const subject = (s: string) => `moma.test.${process.pid}.${Date.now().toString(36)}${uniq++}.${s}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let tracingReady = false;
function setUpTracing(): void {
  if (tracingReady) return;
  tracingReady = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
}

export function busContract(label: string, makeHarness: () => Promise<BusHarness>): void {
  describe(label, () => {
    let h: BusHarness;
    beforeAll(async () => {
      setUpTracing();
      h = await makeHarness();
    });
    afterAll(async () => h?.cleanup());

    const echo = (prefix: string) => async (req: Echo): Promise<Echo> => ({ text: `${prefix}${req.text}`, n: req.n + 1 });

    it('bus - consume gives each event to one instance of the group, and every group gets every event', async () => {
      const [a, b, c, pub] = [await h.bus('cons-a'), await h.bus('cons-b'), await h.bus('cons-c'), await h.bus('cons-pub')];
      const s = subject('work');
      const group = `g${Date.now().toString(36)}${uniq++}`;
      const seen: Record<string, string[]> = { a: [], b: [], other: [] };
      const ids = new Set<string>();
      const subs = [
        await a.consume(s, group, EchoCodec, async (m, id) => void (seen.a!.push(m.text), ids.add(id))),
        await b.consume(s, group, EchoCodec, async (m, id) => void (seen.b!.push(m.text), ids.add(id))),
        await c.consume(s, `${group}-other`, EchoCodec, async (m) => void seen.other!.push(m.text)),
      ];
      for (let i = 0; i < 20; i++) await pub.publish(s, { text: `e${i}`, n: i }, EchoCodec);
      const deadline = Date.now() + 5000;
      while ((seen.a!.length + seen.b!.length < 20 || seen.other!.length < 20) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100)); // nothing more arrives
      const all = Array.from({ length: 20 }, (_, i) => `e${i}`).sort();
      expect([...seen.a!, ...seen.b!].sort()).toEqual(all);
      expect(seen.other!.sort()).toEqual(all);
      expect(ids.size).toBe(20);
      for (const sub of subs) await sub.unsubscribe();
    });

    it('bus - request reaches a handler and the reply is decoded', async () => {
      const server = await h.bus('svc-a');
      const client = await h.bus('client');
      const s = subject('echo');
      await server.serve(one('svc-a', s, EchoCodec, EchoCodec, echo('re:')));
      const res = await client.request(s, { text: 'hi', n: 41 }, EchoCodec, EchoCodec);
      expect(res).toEqual({ text: 're:hi', n: 42 });
    });

    it('bus - two instances in one queue group share the load, each request handled once', async () => {
      const a = await h.bus('svc-q');
      const b = await h.bus('svc-q');
      const client = await h.bus('client');
      const s = subject('shared');
      let handled = 0;
      await a.serve(one('svc-q', s, EchoCodec, EchoCodec, async (r) => (handled++, { text: 'a', n: r.n })));
      await b.serve(one('svc-q', s, EchoCodec, EchoCodec, async (r) => (handled++, { text: 'b', n: r.n })));
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) => client.request(s, { text: '', n: i }, EchoCodec, EchoCodec)),
      );
      expect(handled).toBe(40);
      expect(replies.map((r) => r.n)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      const byA = replies.filter((r) => r.text === 'a').length;
      expect(byA).toBeGreaterThan(0);
      expect(byA).toBeLessThan(40);
    });

    it('bus - servers under different service names each receive every request (separate queue groups)', async () => {
      const a = await h.bus('svc-x');
      const b = await h.bus('svc-y');
      const client = await h.bus('client');
      const s = subject('groups');
      const seen = { a: 0, b: 0 };
      await a.serve(one('svc-x', s, EchoCodec, EchoCodec, async (r) => (seen.a++, r)));
      await b.serve(one('svc-y', s, EchoCodec, EchoCodec, async (r) => (seen.b++, r)));
      for (let i = 0; i < 5; i++) expect(await client.request(s, { text: '', n: i }, EchoCodec, EchoCodec)).toEqual({ text: '', n: i });
      // The caller takes the first reply; the other group's handler may still be finishing.
      for (let i = 0; i < 100 && seen.a + seen.b < 10; i++) await sleep(10);
      expect(seen).toEqual({ a: 5, b: 5 });
    });

    it('bus - a service with several endpoints serves each on its own subject, and unsubscribe stops them all', async () => {
      const server = await h.bus('svc-multi');
      const client = await h.bus('client');
      const [up, down] = [subject('upper'), subject('negate')];
      const sub = await server.serve({
        name: 'svc-multi',
        version: '1.2.3',
        description: 'two endpoints in one service',
        endpoints: [
          { name: 'Upper', subject: up, request: EchoCodec, response: EchoCodec, handler: async (r: Echo) => ({ text: r.text.toUpperCase(), n: r.n }) },
          { name: 'Negate', subject: down, request: EchoCodec, response: EchoCodec, handler: async (r: Echo) => ({ text: r.text, n: -r.n }) },
        ],
      });
      expect(await client.request(up, { text: 'abc', n: 2 }, EchoCodec, EchoCodec)).toEqual({ text: 'ABC', n: 2 });
      expect(await client.request(down, { text: 'abc', n: 2 }, EchoCodec, EchoCodec)).toEqual({ text: 'abc', n: -2 });
      await sub.unsubscribe();
      for (const s of [up, down]) {
        const err = await client.request(s, { text: '', n: 1 }, EchoCodec, EchoCodec, { timeoutMs: 500 }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: Code.UNAVAILABLE });
      }
    });

    it('bus - a handler error reaches the caller with its code and message', async () => {
      const server = await h.bus('svc-err');
      const client = await h.bus('client');
      const s = subject('err');
      await server.serve(
        one('svc-err', s, EchoCodec, EchoCodec, async (r) => {
          if (r.text === 'missing') throw new MomaError(Code.NOT_FOUND, 'no such session: s1');
          if (r.text === 'bad') throw Object.assign(new Error('query is empty'), { name: 'InvalidInputError' });
          throw new Error('boom');
        }),
      );
      const call = (text: string) => client.request(s, { text, n: 0 }, EchoCodec, EchoCodec).then(() => undefined, (e: unknown) => e);
      const notFound = await call('missing');
      expect(notFound).toBeInstanceOf(MomaError);
      expect(notFound).toMatchObject({ code: Code.NOT_FOUND, message: 'no such session: s1' });
      expect(await call('bad')).toMatchObject({ code: Code.INVALID_ARGUMENT, message: 'query is empty' });
      expect(await call('other')).toMatchObject({ code: Code.INTERNAL, message: 'boom' });
    });

    it('bus - a payload the handler cannot decode is INVALID_ARGUMENT', async () => {
      const server = await h.bus('svc-decode');
      const client = await h.bus('client');
      const s = subject('decode');
      await server.serve(one('svc-decode', s, RejectingCodec, EchoCodec, echo('')));
      const err = await client.request(s, { text: 'x', n: 1 }, EchoCodec, EchoCodec).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: Code.INVALID_ARGUMENT });
      expect((err as Error).message).toContain('malformed payload');
    });

    it('bus - a slow handler gives DEADLINE_EXCEEDED at the caller deadline', async () => {
      const server = await h.bus('svc-slow');
      const client = await h.bus('client');
      const s = subject('slow');
      await server.serve(one('svc-slow', s, EchoCodec, EchoCodec, async (r) => (await sleep(400), r)));
      const t0 = performance.now();
      const err = await client.request(s, { text: 'x', n: 1 }, EchoCodec, EchoCodec, { timeoutMs: 60 }).catch((e: unknown) => e);
      const elapsed = performance.now() - t0;
      expect(err).toMatchObject({ code: Code.DEADLINE_EXCEEDED });
      expect(elapsed).toBeGreaterThanOrEqual(55);
      expect(elapsed).toBeLessThan(350);
    });

    it('bus - no responders is UNAVAILABLE without waiting for the deadline', async () => {
      const client = await h.bus('client');
      const t0 = performance.now();
      const err = await client.request(subject('nobody'), { text: '', n: 0 }, EchoCodec, EchoCodec, { timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: Code.UNAVAILABLE });
      expect(performance.now() - t0).toBeLessThan(1000);
    });

    it('bus - the handler runs in the caller trace, as a child of the caller span', async () => {
      const server = await h.bus('svc-trace');
      const client = await h.bus('client');
      const s = subject('trace');
      let seen: { traceId: string; spanId: string } | undefined;
      await server.serve(
        one('svc-trace', s, EchoCodec, EchoCodec, async (r) => {
          const sc = trace.getActiveSpan()?.spanContext();
          seen = sc ? { traceId: sc.traceId, spanId: sc.spanId } : undefined;
          return r;
        }),
      );
      const tracer = trace.getTracer('test');
      const root = tracer.startSpan('caller');
      await context.with(trace.setSpan(context.active(), root), () => client.request(s, { text: '', n: 0 }, EchoCodec, EchoCodec));
      root.end();
      await provider.forceFlush();
      const callerTrace = root.spanContext().traceId;
      expect(seen?.traceId).toBe(callerTrace);
      const spans = exporter.getFinishedSpans().filter((sp) => sp.spanContext().traceId === callerTrace);
      const send = spans.find((sp) => sp.name === `send ${s}`);
      const proc = spans.find((sp) => sp.name === `process ${s}`);
      expect(send?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      expect(proc?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
      expect(proc?.spanContext().spanId).toBe(seen?.spanId);
    });

    it('bus - events reach every subscriber (fan-out), with the publisher trace', async () => {
      const a = await h.bus('svc-ev');
      const b = await h.bus('svc-ev');
      const pub = await h.bus('client');
      const s = subject('events').replace('moma.test.', 'moma.events.test.');
      const got: Array<{ who: string; msg: Echo; traceId: string | undefined }> = [];
      const on = (who: string) => (msg: Echo) => void got.push({ who, msg, traceId: trace.getActiveSpan()?.spanContext().traceId });
      await a.subscribe(s, EchoCodec, on('a'));
      await b.subscribe(s, EchoCodec, on('b'));
      const root = trace.getTracer('test').startSpan('publisher');
      await context.with(trace.setSpan(context.active(), root), () => pub.publish(s, { text: 'usage', n: 7 }, EchoCodec));
      root.end();
      for (let i = 0; i < 100 && got.length < 2; i++) await sleep(10);
      expect(got.map((g) => g.who).sort()).toEqual(['a', 'b']);
      expect(got.every((g) => g.msg.text === 'usage' && g.msg.n === 7)).toBe(true);
      expect(got.every((g) => g.traceId === root.spanContext().traceId)).toBe(true);
    });

    it('bus - after unsubscribe the endpoint no longer answers', async () => {
      const server = await h.bus('svc-unsub');
      const client = await h.bus('client');
      const s = subject('unsub');
      const sub = await server.serve(one('svc-unsub', s, EchoCodec, EchoCodec, echo('')));
      await client.request(s, { text: '', n: 0 }, EchoCodec, EchoCodec);
      await sub.unsubscribe();
      const err = await client.request(s, { text: '', n: 0 }, EchoCodec, EchoCodec, { timeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: Code.UNAVAILABLE });
    });

    it('bus - closing the serving bus lets an in-flight request finish', async () => {
      const server = await h.bus('svc-drain');
      const client = await h.bus('client');
      const s = subject('drain');
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      await server.serve(
        one('svc-drain', s, EchoCodec, EchoCodec, async (r) => {
          started();
          await sleep(100);
          return { text: 'finished', n: r.n };
        }),
      );
      const pending = client.request(s, { text: '', n: 5 }, EchoCodec, EchoCodec, { timeoutMs: 2000 });
      await running;
      await server.close();
      await expect(pending).resolves.toEqual({ text: 'finished', n: 5 });
    });

    it('bus - an invalid subject is rejected as a MomaError before anything is sent', async () => {
      const client = await h.bus('client');
      for (const bad of ['', 'moma..x', 'moma.*.x', 'has space', 'moma.>']) {
        await expect(client.request(bad, { text: '', n: 0 }, EchoCodec, EchoCodec)).rejects.toMatchObject({ code: Code.INTERNAL });
      }
      await expect(client.publish('moma.events.*', { text: '', n: 0 }, EchoCodec)).rejects.toMatchObject({ code: Code.INTERNAL });
    });

    it('bus - a closed bus fails calls with UNAVAILABLE', async () => {
      const bus = await h.bus('svc-closed');
      await bus.close();
      const err = await bus.request(subject('closed'), { text: '', n: 0 }, EchoCodec, EchoCodec).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: Code.UNAVAILABLE });
    });
  });
}
