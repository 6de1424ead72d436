// The platform's public contracts. Implementations live beside this file; services depend only on these types.
// (Written first so every service can be built against them in parallel.)
import type { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';

/** Any ts-proto message codec (e.g. `ClassifyRequest` from @moma/proto). */
export interface Codec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array, length?: number): T;
}

export interface RequestOptions {
  /** Deadline for the reply; default from config (NATS_REQUEST_TIMEOUT_MS, 2000). */
  timeoutMs?: number;
}

/** One request/reply endpoint of a served service. */
export interface EndpointSpec<Req = any, Res = any> {
  /** Endpoint name shown by `$SRV.INFO` (e.g. "Classify"). */
  name: string;
  subject: string;
  request: Codec<Req>;
  response: Codec<Res>;
  handler: (req: Req) => Promise<Res>;
}

/**
 * A named service: all of a stage's endpoints, served together. Over NATS it is one `@nats-io/services` service (so
 * `$SRV.PING/INFO/STATS` list each stage once), its instances sharing one queue group.
 */
export interface ServiceSpec {
  /** Service name (letters, digits, "_" and "-"); also the default queue group. */
  name: string;
  /** Semver reported to service discovery. */
  version?: string;
  description?: string;
  /** Queue group; defaults to the service name so instances share the load. */
  queue?: string;
  endpoints: EndpointSpec[];
}

export interface Subscription {
  unsubscribe(): Promise<void>;
}

/**
 * Message bus: request/reply in queue groups plus events. Implemented over NATS (`NatsBus`) and in memory
 * (`MemoryBus`, embedded single-process mode). This is the transport under the stage layer (stage.ts): services
 * call stages through `stageClient` / `serveStage` and events through `publishEvent` / `subscribeEvent`, which
 * take subjects and codecs from the contract, so no service names a subject or a codec. W3C trace context travels in message headers, so a handler
 * runs inside the caller's trace; errors thrown by a handler reach the caller as the same MomaError code.
 */
export interface Bus {
  request<Req, Res>(subject: string, req: Req, reqCodec: Codec<Req>, resCodec: Codec<Res>, opts?: RequestOptions): Promise<Res>;
  /** Serves every endpoint of `service`; unsubscribing stops them all. */
  serve(service: ServiceSpec): Promise<Subscription>;
  /** Fire-and-forget event; persisted in JetStream (stream MOMA_EVENTS, subjects moma.events.>) when available. */
  publish<T>(subject: string, msg: T, codec: Codec<T>): Promise<void>;
  /** Every instance receives events (fan-out, no queue group) — used for registry and artifact announcements. */
  subscribe<T>(subject: string, codec: Codec<T>, handler: (msg: T) => void | Promise<void>): Promise<Subscription>;
  /**
   * Each event once across every instance consuming as `group` (work-queue, not fan-out): over NATS a JetStream
   * durable consumer of the events stream, so events published while no instance ran are delivered when one starts;
   * an event is acked when `handler` resolves and redelivered when it throws. `id` is unique to the event (its
   * stream sequence), for handlers that must not apply a redelivered event twice.
   */
  consume<T>(subject: string, group: string, codec: Codec<T>, handler: (msg: T, id: string) => Promise<void>): Promise<Subscription>;
  close(): Promise<void>;
}

/** A value stored with a version for optimistic concurrency. */
export interface Versioned<T> {
  value: T;
  version: number;
}

/**
 * Key/value store for shared state (sessions, agent registry). Redis (`RedisStore`) or memory (`MemoryStore`).
 * Values are JSON. `update` is an optimistic read-modify-write: it retries when another writer changed the key
 * (WATCH/MULTI or a Lua compare-and-set on the version), so concurrent turns never lose an update.
 */
export interface Store {
  get<T>(key: string): Promise<Versioned<T> | undefined>;
  /** Unconditional write; returns the new version. */
  put<T>(key: string, value: T, ttlSeconds?: number): Promise<number>;
  /** Compare-and-set: writes only if the current version equals `expectedVersion` (0 = must not exist). */
  compareAndSet<T>(key: string, value: T, expectedVersion: number, ttlSeconds?: number): Promise<boolean>;
  /** Read-modify-write with retries on conflict; `fn` receives undefined when the key is absent. */
  update<T>(key: string, fn: (current: T | undefined) => T, ttlSeconds?: number): Promise<Versioned<T>>;
  delete(key: string): Promise<boolean>;
  /** Keys under a prefix (registry listing; not for hot paths). */
  list<T>(prefix: string): Promise<Array<{ key: string; value: T }>>;
  /**
   * Windowed counters (rate limits, budgets), atomically: checks every limit and, only when all have room, adds each
   * one's `add` to its window. One Lua script on Redis, so gateways on any number of hosts share the counts.
   */
  take(limits: readonly CounterLimit[], nowMs: number): Promise<TakeResult>;
  /** Adds amounts to windows, once per `onceId` (a redelivered event is not counted twice); false if already added. */
  add(onceId: string, amounts: ReadonlyArray<WindowCounter & { amount: number }>): Promise<boolean>;
  /** The counts of windows as `take` sees them (sliding windows weighted). */
  read(counters: readonly WindowCounter[], nowMs: number): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * One counting window: the amount counted in [startMs, endMs) under `key`. With `previousKey` (the window just
 * before, of the same length) it slides: the previous window counts by the share of it still inside the last
 * (endMs - startMs) ms, as Cloudflare's and nginx's limiters approximate a sliding log.
 */
export interface WindowCounter {
  key: string;
  startMs: number;
  endMs: number;
  previousKey?: string;
}

export interface CounterLimit extends WindowCounter {
  limit: number;
  /** What this call adds when admitted (1 for a request; 0 checks without counting: refused once used ≥ limit). */
  add: number;
}

export interface TakeResult {
  ok: boolean;
  /** Per limit, in order: used (after this call's add, when admitted) and ms until it has room for `add` again. */
  states: Array<{ used: number; resetMs: number }>;
  /** Index of the first limit without room (-1 when ok). */
  refused: number;
}

/** Minimal logger surface (pino's); services log `logger.info({ sessionId }, 'msg')`. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * What every service's `app.ts` receives: adapters already connected (NATS + Redis when NATS_URL/REDIS_URL are set,
 * memory otherwise). `main.ts` builds it from the environment; the embedded launcher builds one shared in-memory
 * context and passes it to all five services in one process.
 */
export interface ServiceContext {
  /** Service name, e.g. "scoring" — also the NATS queue group and OTel service.name. */
  name: string;
  bus: Bus;
  store: Store;
  logger: Logger;
}

/** A running service; `stop()` stops taking work, finishes what is in flight, and releases its servers. */
export interface ServiceHandle {
  stop(): Promise<void>;
}
