// In-process bus for the embedded single-process mode and unit tests. It behaves like NatsBus where callers can
// tell: payloads go through the codecs, queue groups share load round-robin, errors arrive as a fresh MomaError
// with only code + message (as over the wire), deadlines and "no responders" give the same codes, and the
// handler runs in a child span of the caller's.
import type { Bus, Codec, EndpointSpec, Logger, RequestOptions, ServiceSpec, Subscription } from './contracts.ts';
import { Code, MomaError } from './errors.ts';
import { injectContext, withClientSpan, withServerSpan } from './bus-trace.ts';
import { DEADLINE_HEADER, MapHeaders, deadlinePassed, decodeOrThrow, encodeOrThrow, logHandlerError } from './bus-wire.ts';
import { assertValidSubject, subjectMatches } from './subjects.ts';
import { timedCall, type RequestMetrics } from './metrics.ts';

type RawHandler = (data: Uint8Array, headers: MapHeaders) => Promise<Uint8Array>;

interface Server {
  pattern: string;
  queue: string;
  handle: RawHandler;
}

interface Listener {
  pattern: string;
  /** Set for a consumer: each event goes to one listener of the group. */
  group?: string;
  deliver: (data: Uint8Array, subject: string, headers: MapHeaders) => void;
}

export interface MemoryBusOptions {
  timeoutMs?: number;
  logger?: Logger;
  /** Records every handled request (endpoint = subject, code, duration). */
  metrics?: RequestMetrics;
}

/** What connected MemoryBus instances share — the "server". */
interface Hub {
  servers: Set<Server>;
  listeners: Set<Listener>;
  roundRobin: Map<string, number>;
  /** Events handed to consumers so far: picks the group member and makes each event's id. */
  events: number;
}

export class MemoryBus implements Bus {
  private readonly timeoutMs: number;
  private readonly logger: Logger | undefined;
  private readonly metrics: RequestMetrics | undefined;
  private readonly hub: Hub;
  /** What this instance registered, removed on close (other instances on the hub keep working). */
  private readonly own = { servers: new Set<Server>(), listeners: new Set<Listener>() };
  private closed = false;

  constructor(opts: MemoryBusOptions = {}, hub?: Hub) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.hub = hub ?? { servers: new Set(), listeners: new Set(), roundRobin: new Map(), events: 0 };
  }

  /**
   * Another bus on the same in-process "server", like a second NATS connection: the embedded launcher gives
   * each service its own, so one service closing its bus leaves the others running.
   */
  connect(opts: MemoryBusOptions = {}): MemoryBus {
    const logger = opts.logger ?? this.logger;
    const metrics = opts.metrics ?? this.metrics;
    return new MemoryBus(
      { timeoutMs: opts.timeoutMs ?? this.timeoutMs, ...(logger ? { logger } : {}), ...(metrics ? { metrics } : {}) },
      this.hub,
    );
  }

  private checkOpen(subject: string): void {
    if (this.closed) throw new MomaError(Code.UNAVAILABLE, `message bus closed (${subject})`);
  }

  /** One server per queue group (round-robin inside a group), as NATS delivers a request. */
  private pick(subject: string): Server[] {
    const groups = new Map<string, Server[]>();
    for (const s of this.hub.servers) {
      if (!subjectMatches(s.pattern, subject)) continue;
      const g = groups.get(s.queue);
      if (g) g.push(s);
      else groups.set(s.queue, [s]);
    }
    const picked: Server[] = [];
    for (const [queue, members] of groups) {
      const key = `${subject}\u0000${queue}`;
      const n = this.hub.roundRobin.get(key) ?? 0;
      this.hub.roundRobin.set(key, n + 1);
      picked.push(members[n % members.length]!);
    }
    return picked;
  }

  async request<Req, Res>(subject: string, req: Req, reqCodec: Codec<Req>, resCodec: Codec<Res>, opts?: RequestOptions): Promise<Res> {
    assertValidSubject(subject);
    this.checkOpen(subject);
    const timeout = opts?.timeoutMs ?? this.timeoutMs;
    const data = encodeOrThrow(reqCodec, req, `request to ${subject}`);
    return timedCall(this.metrics, subject, () => withClientSpan(subject, 'send', async (ctx) => {
      const servers = this.pick(subject);
      if (servers.length === 0) {
        throw new MomaError(Code.UNAVAILABLE, `${subject}: no service is listening`, { details: { subject } });
      }
      const headers = new MapHeaders();
      injectContext(ctx, headers);
      headers.set(DEADLINE_HEADER, String(Date.now() + timeout));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new MomaError(Code.DEADLINE_EXCEEDED, `no reply from ${subject} within ${timeout} ms`, { details: { subject } })),
          timeout,
        );
      });
      try {
        const reply = await Promise.race([...servers.map((s) => s.handle(data, headers)), deadline]);
        return decodeOrThrow(resCodec, reply, `reply from ${subject}`, Code.INTERNAL);
      } finally {
        clearTimeout(timer);
      }
    }));
  }

  async serve(service: ServiceSpec): Promise<Subscription> {
    for (const e of service.endpoints) {
      assertValidSubject(e.subject, true);
      this.checkOpen(e.subject);
    }
    const queue = service.queue ?? service.name;
    const servers = service.endpoints.map((e) => this.server(e, queue));
    for (const server of servers) {
      this.hub.servers.add(server);
      this.own.servers.add(server);
    }
    return {
      unsubscribe: async () => {
        for (const server of servers) {
          this.hub.servers.delete(server);
          this.own.servers.delete(server);
        }
      },
    };
  }

  private server<Req, Res>(e: EndpointSpec<Req, Res>, queue: string): Server {
    const { subject } = e;
    return {
      pattern: subject,
      queue,
      handle: async (data, headers) => {
        // Yield first, like a network hop: the caller's code after `request()` never runs inside the handler.
        await Promise.resolve();
        const t0 = performance.now();
        try {
          const out = await withServerSpan(subject, 'process', headers, async () => {
            if (deadlinePassed(headers)) throw new MomaError(Code.DEADLINE_EXCEEDED, `caller's deadline passed before ${subject} started`);
            const req = decodeOrThrow(e.request, data, `request to ${subject}`, Code.INVALID_ARGUMENT);
            return encodeOrThrow(e.response, await e.handler(req), `reply from ${subject}`);
          });
          this.metrics?.observe(subject, Code.OK, (performance.now() - t0) / 1000);
          return out;
        } catch (err) {
          const e = MomaError.from(err);
          logHandlerError(this.logger, subject, e);
          this.metrics?.observe(subject, e.code, (performance.now() - t0) / 1000);
          throw new MomaError(e.code, e.message, { details: { subject } });
        }
      },
    };
  }

  async publish<T>(subject: string, msg: T, codec: Codec<T>): Promise<void> {
    assertValidSubject(subject);
    this.checkOpen(subject);
    const data = encodeOrThrow(codec, msg, `event on ${subject}`);
    await withClientSpan(subject, 'publish', async (ctx) => {
      const headers = new MapHeaders();
      injectContext(ctx, headers);
      const groups = new Map<string, Listener[]>();
      for (const l of this.hub.listeners) {
        if (!subjectMatches(l.pattern, subject)) continue;
        if (l.group === undefined) l.deliver(data, subject, headers);
        else groups.set(l.group, [...(groups.get(l.group) ?? []), l]);
      }
      for (const members of groups.values()) members[this.hub.events++ % members.length]!.deliver(data, subject, headers);
    });
  }

  async consume<T>(subject: string, group: string, codec: Codec<T>, handler: (msg: T, id: string) => Promise<void>): Promise<Subscription> {
    return this.listen(subject, codec, (msg) => handler(msg, `mem-${++this.hub.events}`), group);
  }

  subscribe<T>(subject: string, codec: Codec<T>, handler: (msg: T) => void | Promise<void>): Promise<Subscription> {
    return this.listen(subject, codec, handler);
  }

  private async listen<T>(subject: string, codec: Codec<T>, handler: (msg: T) => void | Promise<void>, group?: string): Promise<Subscription> {
    assertValidSubject(subject, true);
    this.checkOpen(subject);
    const listener: Listener = {
      pattern: subject,
      ...(group !== undefined ? { group } : {}),
      deliver: (data, actual, headers) => {
        // Delivered after the publisher's turn, as over the network; a failing handler is logged, never thrown
        // into the publisher.
        setImmediate(() => {
          void withServerSpan(actual, 'receive', headers, async () => {
            await handler(decodeOrThrow(codec, data, `event on ${actual}`, Code.INVALID_ARGUMENT));
          }).catch((err: unknown) => this.logger?.error({ err, subject: actual }, 'event handler failed'));
        });
      },
    };
    this.hub.listeners.add(listener);
    this.own.listeners.add(listener);
    return {
      unsubscribe: async () => {
        this.hub.listeners.delete(listener);
        this.own.listeners.delete(listener);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.own.servers) this.hub.servers.delete(s);
    for (const l of this.own.listeners) this.hub.listeners.delete(l);
    this.own.servers.clear();
    this.own.listeners.clear();
  }
}
