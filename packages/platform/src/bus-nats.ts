// Bus over NATS: request/reply in queue groups (optionally as a named, versioned @nats-io/services service, so
// `$SRV.PING/INFO/STATS` discovery works), events on JetStream, trace context and errors in headers.
import { connect, createInbox, headers, type Msg, type MsgHdrs, type NatsConnection, type Subscription as NatsSub } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream';
import { Svcm, type Service, type ServiceMsg } from '@nats-io/services';
import type { Bus, Codec, EndpointSpec, Logger, RequestOptions, ServiceSpec, Subscription } from './contracts.ts';
import { Code, MomaError } from './errors.ts';
import { withClientSpan, withServerSpan, injectContext, type HeaderCarrier } from './bus-trace.ts';
import {
  DEADLINE_HEADER,
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  deadlinePassed,
  decodeOrThrow,
  encodeOrThrow,
  errorFromHeaders,
  headerSafe,
  logHandlerError,
} from './bus-wire.ts';
import { assertValidSubject, subjectMatches } from './subjects.ts';
import { ensureEventConsumer, ensureEventStream, EVENTS_STREAM, EVENTS_SUBJECTS } from './jetstream-events.ts';
import { timedCall, type RequestMetrics } from './metrics.ts';

export interface NatsBusOptions {
  /** Service name: default queue group, NATS connection name, and @nats-io/services service name. */
  name: string;
  /** Default request deadline (NATS_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Serve endpoints through @nats-io/services (discovery + stats) instead of plain queue subscriptions. */
  useServices?: boolean;
  /** Semver reported by the services framework. */
  version?: string;
  logger?: Logger;
  /** Records every handled request (endpoint = subject, code, duration). */
  metrics?: RequestMetrics;
  /** Replicas of the events stream when this bus creates it (NATS_EVENTS_REPLICAS; 3 on a 3-node JetStream cluster). */
  eventsReplicas?: number;
}

export interface ConnectNatsBusOptions extends NatsBusOptions {
  /** One URL or a comma-separated list. */
  url: string;
  /** Connect timeout; a NATS that is down fails boot quickly instead of hanging. */
  connectTimeoutMs?: number;
}

/** Wraps NATS headers so the trace propagator and the wire helpers can read and write them. */
function carrier(h: MsgHdrs | undefined): HeaderCarrier | undefined {
  if (!h) return undefined;
  return {
    get: (k) => (h.has(k) ? h.get(k) : undefined),
    set: (k, v) => h.set(k, v),
    keys: () => h.keys(),
  };
}

/** Connects to NATS and returns a bus; fails with UNAVAILABLE (naming the URL) when NATS cannot be reached. */
export async function connectNatsBus(opts: ConnectNatsBusOptions): Promise<NatsBus> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: opts.url.split(',').map((s) => s.trim()).filter(Boolean),
      name: opts.name,
      timeout: opts.connectTimeoutMs ?? 2000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // Async stack capture on every request costs ~half of the client's CPU per request; our errors carry codes instead.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new MomaError(Code.UNAVAILABLE, `cannot connect to NATS at ${opts.url} (check NATS_URL): ${(err as Error).message}`, {
      cause: err,
    });
  }
  return new NatsBus(nc, opts);
}

export class NatsBus implements Bus {
  readonly nc: NatsConnection;
  private readonly name: string;
  private readonly timeoutMs: number;
  private readonly useServices: boolean;
  private readonly version: string;
  private readonly logger: Logger | undefined;
  private readonly metrics: RequestMetrics | undefined;
  private readonly eventsReplicas: number;
  private connected = true;
  private js: Promise<JetStreamClient | undefined> | undefined;
  private readonly services = new Set<Service>();
  private readonly queueSubs = new Set<NatsSub>();
  private readonly consumers = new Set<ConsumerMessages>();
  /** Handlers still running, so close() can let them reply before the connection goes. */
  private readonly inflight = new Set<Promise<void>>();
  private replies: ReplyMux | undefined;
  private readonly outbox: Outbox;

  constructor(nc: NatsConnection, opts: NatsBusOptions) {
    this.nc = nc;
    this.outbox = new Outbox(nc);
    this.name = opts.name;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.useServices = opts.useServices ?? true;
    this.version = opts.version ?? '0.1.0';
    this.eventsReplicas = opts.eventsReplicas ?? 1;
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    void this.watchStatus();
  }

  // Tracks disconnects so requests fail fast with UNAVAILABLE instead of waiting out their deadline.
  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        this.logger?.warn({ server: s.server }, 'NATS disconnected');
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.logger?.info({ server: s.server }, 'NATS reconnected');
      }
    }
  }

  /** Connected and not closed (for health probes). */
  isHealthy(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  private checkUsable(subject: string): void {
    if (this.nc.isClosed()) throw new MomaError(Code.UNAVAILABLE, `message bus closed (${subject})`);
    if (!this.connected) throw new MomaError(Code.UNAVAILABLE, `NATS disconnected; cannot reach ${subject}`);
  }

  async request<Req, Res>(subject: string, req: Req, reqCodec: Codec<Req>, resCodec: Codec<Res>, opts?: RequestOptions): Promise<Res> {
    assertValidSubject(subject);
    this.checkUsable(subject);
    const timeout = opts?.timeoutMs ?? this.timeoutMs;
    const data = encodeOrThrow(reqCodec, req, `request to ${subject}`);
    return timedCall(this.metrics, subject, () => withClientSpan(subject, 'send', async (ctx) => {
      const h = headers();
      const c = carrier(h)!;
      injectContext(ctx, c);
      h.set(DEADLINE_HEADER, String(Date.now() + timeout));
      let reply: Msg;
      try {
        reply = await (this.replies ??= new ReplyMux(this.nc, this.outbox)).request(subject, data, timeout, h);
      } catch (err) {
        const e = MomaError.from(err, Code.UNAVAILABLE);
        const detail = e.code === Code.DEADLINE_EXCEEDED ? `no reply from ${subject} within ${timeout} ms` : `${subject}: ${e.message}`;
        throw new MomaError(e.code, detail, { cause: err, details: { subject } });
      }
      const remote = errorFromHeaders(carrier(reply.headers), subject);
      if (remote) throw remote;
      return decodeOrThrow(resCodec, reply.data, `reply from ${subject}`, Code.INTERNAL);
    }));
  }

  async serve(service: ServiceSpec): Promise<Subscription> {
    for (const e of service.endpoints) assertValidSubject(e.subject, true);
    const queue = service.queue ?? service.name;
    // ServiceMsg is typed against the services package's own nats-core copy; at run time it wraps our Msg.
    const handler = (e: EndpointSpec) => (msg: Msg | ServiceMsg): void => {
      const p = this.handle(e.subject, msg as unknown as Msg, e.request, e.response, e.handler);
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    };
    if (this.useServices) {
      // One service for the whole stage, one endpoint per rpc: `$SRV.INFO` lists the stage once with its endpoints.
      const svc = await new Svcm(this.nc as never).add({
        name: service.name.replace(/[^A-Za-z0-9_-]/g, '_'),
        version: service.version ?? this.version,
        ...(service.description ? { description: service.description } : {}),
        queue,
      });
      for (const e of service.endpoints) {
        const handle = handler(e);
        svc.addEndpoint(e.name.replace(/[^A-Za-z0-9_-]/g, '_'), {
          subject: e.subject,
          queue,
          handler: (err, msg) => (err ? this.logger?.error({ err, subject: e.subject }, 'endpoint failed') : handle(msg)),
        });
      }
      this.services.add(svc);
      await this.nc.flush();
      return {
        unsubscribe: async () => {
          this.services.delete(svc);
          if (!svc.isStopped) await svc.stop();
        },
      };
    }
    const subs = service.endpoints.map((e) => {
      const handle = handler(e);
      const sub = this.nc.subscribe(e.subject, {
        queue,
        callback: (err, msg) => (err ? this.logger?.error({ err, subject: e.subject }, 'subscription failed') : handle(msg)),
      });
      this.queueSubs.add(sub);
      return sub;
    });
    await this.nc.flush();
    return {
      unsubscribe: async () => {
        for (const sub of subs) this.queueSubs.delete(sub);
        await Promise.all(subs.map(drainQuietly));
      },
    };
  }

  private async handle<Req, Res>(
    subject: string,
    msg: Msg,
    reqCodec: Codec<Req>,
    resCodec: Codec<Res>,
    handler: (req: Req) => Promise<Res>,
  ): Promise<void> {
    const h = carrier(msg.headers);
    const t0 = performance.now();
    let out: Uint8Array;
    try {
      out = await withServerSpan(subject, 'process', h, async () => {
        if (deadlinePassed(h)) throw new MomaError(Code.DEADLINE_EXCEEDED, `caller's deadline passed before ${subject} started`);
        const req = decodeOrThrow(reqCodec, msg.data, `request to ${subject}`, Code.INVALID_ARGUMENT);
        const res = await handler(req);
        return encodeOrThrow(resCodec, res, `reply from ${subject}`);
      });
    } catch (err) {
      const e = MomaError.from(err);
      logHandlerError(this.logger, subject, e);
      this.metrics?.observe(subject, e.code, (performance.now() - t0) / 1000);
      const eh = headers();
      eh.set(ERROR_CODE_HEADER, String(e.code));
      eh.set(ERROR_HEADER, headerSafe(e.message));
      this.reply(subject, msg, undefined, eh);
      return;
    }
    this.metrics?.observe(subject, Code.OK, (performance.now() - t0) / 1000);
    this.reply(subject, msg, out);
  }

  // The connection may have closed while the handler ran; that must not become an unhandled rejection.
  private reply(subject: string, msg: Msg, data: Uint8Array | undefined, h?: MsgHdrs): void {
    const to = msg.reply;
    if (!to) return;
    this.outbox.send(to, data, h, (err) => this.logger?.warn({ err, subject }, 'could not send reply'));
  }

  async publish<T>(subject: string, msg: T, codec: Codec<T>): Promise<void> {
    assertValidSubject(subject);
    this.checkUsable(subject);
    const data = encodeOrThrow(codec, msg, `event on ${subject}`);
    await withClientSpan(subject, 'publish', async (ctx) => {
      const h = headers();
      injectContext(ctx, carrier(h)!);
      const js = EVENTS_SUBJECTS.some((p) => subjectMatches(p, subject)) ? await this.jetStream() : undefined;
      try {
        if (js) await js.publish(subject, data, { headers: h, timeout: this.timeoutMs });
        else this.outbox.send(subject, data, h, (err) => this.logger?.warn({ err, subject }, 'event not published'));
      } catch (err) {
        throw MomaError.from(err, Code.UNAVAILABLE);
      }
    });
  }

  /** JetStream client once the events stream exists; undefined when the server has no JetStream (core publish). */
  private jetStream(): Promise<JetStreamClient | undefined> {
    this.js ??= (async () => {
      try {
        const jsm = await jetstreamManager(this.nc, { timeout: this.timeoutMs });
        await ensureEventStream(jsm, { replicas: this.eventsReplicas });
        return jetstream(this.nc, { timeout: this.timeoutMs });
      } catch (err) {
        this.logger?.warn({ err }, 'JetStream unavailable; events use core NATS publish (not persisted)');
        return undefined;
      }
    })();
    return this.js;
  }

  async subscribe<T>(subject: string, codec: Codec<T>, handler: (msg: T) => void | Promise<void>): Promise<Subscription> {
    assertValidSubject(subject, true);
    const sub = this.nc.subscribe(subject, { callback: this.eventCallback(subject, codec, (m) => handler(m)) });
    // Make sure the server has registered the interest before the caller relies on receiving events.
    await this.nc.flush();
    return { unsubscribe: () => drainQuietly(sub) };
  }

  /** Decodes one event and runs `handler` on it inside the publisher's trace. */
  private receive<T>(codec: Codec<T>, handler: (msg: T, id: string) => void | Promise<void>, data: Uint8Array, subject: string, h: MsgHdrs | undefined, id: string): Promise<void> {
    return withServerSpan(subject, 'receive', carrier(h), async () => {
      await handler(decodeOrThrow(codec, data, `event on ${subject}`, Code.INVALID_ARGUMENT), id);
    });
  }

  /** A core-NATS subscription callback for events: each one received, a failing handler logged, never thrown. */
  private eventCallback<T>(subject: string, codec: Codec<T>, handler: (msg: T, id: string) => void | Promise<void>) {
    return (err: Error | null, msg: Msg): void => {
      if (err) {
        this.logger?.error({ err, subject }, 'event subscription failed');
        return;
      }
      void this.receive(codec, handler, msg.data, msg.subject, msg.headers, `${msg.subject}:${createInbox()}`).catch((e: unknown) =>
        this.logger?.error({ err: e, subject: msg.subject }, 'event handler failed'),
      );
    };
  }

  async consume<T>(subject: string, group: string, codec: Codec<T>, handler: (msg: T, id: string) => Promise<void>): Promise<Subscription> {
    assertValidSubject(subject, true);
    const js = EVENTS_SUBJECTS.some((p) => subjectMatches(p, subject)) ? await this.jetStream() : undefined;
    if (!js) {
      // Not persisted (no JetStream, or a subject outside the events stream): a queue group still gives each event
      // to one instance.
      const sub = this.nc.subscribe(subject, { queue: group, callback: this.eventCallback(subject, codec, handler) });
      this.queueSubs.add(sub);
      await this.nc.flush();
      return { unsubscribe: () => drainQuietly(sub) };
    }
    await ensureEventConsumer(await jetstreamManager(this.nc, { timeout: this.timeoutMs }), group, subject).catch((err: unknown) => {
      throw MomaError.from(err, Code.UNAVAILABLE);
    });
    const consumer = await js.consumers.get(EVENTS_STREAM, group);
    const messages: ConsumerMessages = await consumer.consume({ max_messages: 64 });
    const loop = (async () => {
      for await (const m of messages) {
        try {
          await this.receive(codec, handler, m.data, m.subject, m.headers, `${EVENTS_STREAM}:${m.seq}`);
          m.ack();
        } catch (err) {
          this.logger?.error({ err, subject: m.subject, seq: m.seq }, 'event handler failed; the event will be redelivered');
          m.nak(1000);
        }
      }
    })();
    const p = loop.catch((err: unknown) => this.logger?.error({ err, subject }, 'event consumer stopped'));
    this.consumers.add(messages);
    return {
      unsubscribe: async () => {
        this.consumers.delete(messages);
        await messages.close().catch(() => undefined);
        await p;
        // Until the server has read the UNSUB, its pull request stays open: an event published meanwhile on another
        // connection would be sent to this closed inbox and wait out ack_wait (30 s) before anyone else got it. A
        // flush is a PING/PONG after the UNSUB, so the server has it when unsubscribe() returns.
        if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
      },
    };
  }

  /** Stops taking requests, lets in-flight handlers reply (up to the request timeout), then drains and closes. */
  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    this.replies?.failAll(new MomaError(Code.UNAVAILABLE, 'message bus closed'));
    await Promise.allSettled([
      ...[...this.services].map((s) => s.stop()),
      ...[...this.queueSubs].map(drainQuietly),
      ...[...this.consumers].map((c) => c.close()),
    ]);
    this.consumers.clear();
    this.services.clear();
    this.queueSubs.clear();
    if (this.inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs)));
      await Promise.race([Promise.allSettled([...this.inflight]), cap]);
      clearTimeout(timer);
    }
    this.outbox.flush();
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
  }
}

async function drainQuietly(sub: NatsSub): Promise<void> {
  if (sub.isClosed()) return;
  try {
    await sub.drain();
  } catch {
    sub.unsubscribe();
  }
}

/**
 * Request/reply over one wildcard inbox subscription, as nats.js does, minus its per-request costs on the hot path
 * (it builds an Error for every request that succeeds, and races a timer promise against the reply): one map entry
 * and one timer per request. A 503 status reply means nobody serves the subject.
 */
class ReplyMux {
  private readonly nc: NatsConnection;
  private readonly outbox: Outbox;
  private readonly prefix = `${createInbox()}.`;
  private readonly pending = new Map<string, { resolve: (m: Msg) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private seq = 0;

  constructor(nc: NatsConnection, outbox: Outbox) {
    this.nc = nc;
    this.outbox = outbox;
    nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => (err ? this.failAll(MomaError.from(err, Code.UNAVAILABLE)) : this.dispatch(msg)),
    });
  }

  request(subject: string, data: Uint8Array, timeoutMs: number, h: MsgHdrs): Promise<Msg> {
    const token = (++this.seq).toString(36);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new MomaError(Code.DEADLINE_EXCEEDED, 'deadline exceeded'));
      }, timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      this.outbox.send(
        subject,
        data,
        h,
        (err) => {
          clearTimeout(timer);
          this.pending.delete(token);
          reject(err);
        },
        this.prefix + token,
      );
    });
  }

  failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  private dispatch(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const p = this.pending.get(token);
    if (!p) return; // late reply to a request that already timed out
    this.pending.delete(token);
    clearTimeout(p.timer);
    if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new MomaError(Code.UNAVAILABLE, 'no service is listening'));
    else p.resolve(msg);
  }
}

/**
 * Sends the messages of one event-loop turn together. nats.js writes its outbound buffer to the socket at the first
 * microtask checkpoint after a publish, so requests and replies made from different I/O callbacks of one turn (16
 * HTTP requests, or the 16 stage requests one socket read delivered) each cost a system call, on this process and
 * on nats-server. Queued here and published in one setImmediate, they leave in one write: about one system call per
 * turn instead of one per message, for a few microseconds of delay.
 */
class Outbox {
  private readonly nc: NatsConnection;
  private queue: Array<{ subject: string; data: Uint8Array | undefined; h: MsgHdrs | undefined; reply: string | undefined; onError: (e: Error) => void }> = [];
  private scheduled = false;

  constructor(nc: NatsConnection) {
    this.nc = nc;
  }

  send(subject: string, data: Uint8Array | undefined, h: MsgHdrs | undefined, onError: (e: Error) => void, reply?: string): void {
    this.queue.push({ subject, data, h, reply, onError });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  readonly flush = (): void => {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    for (const m of queue) {
      try {
        this.nc.publish(m.subject, m.data, { ...(m.reply ? { reply: m.reply } : {}), ...(m.h ? { headers: m.h } : {}) });
      } catch (err) {
        m.onError(MomaError.from(err, Code.UNAVAILABLE));
      }
    }
  };
}
