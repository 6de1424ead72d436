// The stage layer: typed clients and servers for the stage services declared in proto/moma/v1/stages.proto, and
// typed events for the topics of @moma/proto. Subjects and codecs come from the generated definitions (ts-proto
// `generic-definitions`), so no call site names a subject or passes a codec: `stageClient(bus, IntentStageDefinition)
// .classify(req)` is the whole call, `serveStage(bus, IntentStageDefinition, { classify })` the whole server.
import type { Bus, Codec, EndpointSpec, RequestOptions, Subscription } from './contracts.ts';

/** A method of a ts-proto generic service definition (unary only: the stages are request/reply). */
export interface StageMethod {
  readonly name: string;
  readonly requestType: Codec<any>;
  readonly responseType: Codec<any>;
  readonly requestStream: false;
  readonly responseStream: false;
}

/** A ts-proto generic service definition, e.g. `IntentStageDefinition`. */
export interface StageDefinition {
  readonly name: string;
  readonly fullName: string;
  readonly methods: Readonly<Record<string, StageMethod>>;
}

type RequestOf<M> = M extends { requestType: { decode(...args: any[]): infer R } } ? R : never;
type ResponseOf<M> = M extends { responseType: { decode(...args: any[]): infer R } } ? R : never;

/** One async function per rpc of the stage. */
export type StageClient<D extends StageDefinition> = {
  readonly [K in keyof D['methods']]: (req: RequestOf<D['methods'][K]>, opts?: RequestOptions) => Promise<ResponseOf<D['methods'][K]>>;
};

/** The handlers a stage's server provides, one per rpc. */
export type StageHandlers<D extends StageDefinition> = {
  readonly [K in keyof D['methods']]: (req: RequestOf<D['methods'][K]>) => Promise<ResponseOf<D['methods'][K]>>;
};

/** "IntentStage" → "intent": the stage's service name (NATS service discovery, queue group) and subject token. */
export function stageName(def: StageDefinition): string {
  return def.name.replace(/Stage$/, '').toLowerCase();
}

/** "RecordTurn" of OrchestratorStage → "moma.orchestrator.record_turn". */
export function stageSubject(def: StageDefinition, method: StageMethod): string {
  return `moma.${stageName(def)}.${method.name.replace(/(?<=[a-z0-9])([A-Z])/g, '_$1').toLowerCase()}`;
}

/** A typed client of `def` over `bus`; `defaults` apply to every call (a call's own options win). */
export function stageClient<D extends StageDefinition>(bus: Bus, def: D, defaults: RequestOptions = {}): StageClient<D> {
  const client: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(def.methods)) {
    const subject = stageSubject(def, method);
    client[key] = (req: unknown, opts?: RequestOptions) =>
      bus.request(subject, req, method.requestType, method.responseType, opts ? { ...defaults, ...opts } : defaults);
  }
  return client as StageClient<D>;
}

export interface ServeStageOptions {
  /** Semver reported to service discovery. */
  version?: string;
  /** Queue group (default: the stage name, so every instance of a stage shares its load). */
  queue?: string;
}

/** Serves every rpc of `def` as one service on `bus`; unsubscribing stops them all. */
export function serveStage<D extends StageDefinition>(bus: Bus, def: D, handlers: StageHandlers<D>, opts: ServeStageOptions = {}): Promise<Subscription> {
  const impl = handlers as Record<string, (req: unknown) => Promise<unknown>>;
  const endpoints: EndpointSpec[] = Object.entries(def.methods).map(([key, method]) => {
    const handler = impl[key];
    if (!handler) throw new Error(`serveStage(${def.fullName}): no handler for ${method.name}`);
    return { name: method.name, subject: stageSubject(def, method), request: method.requestType, response: method.responseType, handler };
  });
  return bus.serve({
    name: stageName(def),
    description: def.fullName,
    endpoints,
    ...(opts.version ? { version: opts.version } : {}),
    ...(opts.queue ? { queue: opts.queue } : {}),
  });
}

/** An event topic of the contract (see `Topics` in @moma/proto): its subject and payload codec. */
export interface Topic<T> {
  readonly subject: string;
  readonly codec: Codec<T>;
}

/** Publishes one event (JetStream-persisted for moma.events.>, see Bus.publish). */
export function publishEvent<T>(bus: Bus, topic: Topic<T>, event: T): Promise<void> {
  return bus.publish(topic.subject, event, topic.codec);
}

/** Every instance receives every event of the topic (fan-out, no queue group). */
export function subscribeEvent<T>(bus: Bus, topic: Topic<T>, handler: (event: T) => void | Promise<void>): Promise<Subscription> {
  return bus.subscribe(topic.subject, topic.codec, handler);
}

/** Each event of the topic once across the instances consuming as `group` (see Bus.consume). */
export function consumeEvent<T>(bus: Bus, topic: Topic<T>, group: string, handler: (event: T, id: string) => Promise<void>): Promise<Subscription> {
  return bus.consume(topic.subject, group, topic.codec, handler);
}
