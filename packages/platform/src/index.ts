// @moma/platform public surface: contracts, errors, config, logging, telemetry, bus and store adapters.
export * from './contracts.ts';
export * from './errors.ts';
export * from './config.ts';
export * from './logger.ts';
export { NatsBus, connectNatsBus, type NatsBusOptions, type ConnectNatsBusOptions } from './bus-nats.ts';
export { MemoryBus, type MemoryBusOptions } from './bus-memory.ts';
export { RedisStore, connectRedisStore, redactUrl, type RedisStoreOptions, type ConnectRedisStoreOptions } from './store-redis.ts';
export { MemoryStore, type MemoryStoreOptions } from './store-memory.ts';
export { createServiceContext, closeServiceContext, checkContextHealth, type PlatformContext, type CreateServiceContextOptions } from './context.ts';
export { subjectMatches } from './subjects.ts';
export { EVENTS_STREAM, EVENTS_SUBJECTS } from './jetstream-events.ts';
export { eventContext, eventTraceparent, withEventSpans } from './bus-trace.ts';
export { startTelemetry, tracer, withSpan, recordSpanError, tracesEndpoint, type Telemetry, type TelemetryOptions } from './telemetry.ts';
export { injectGrpcMetadata, extractGrpcContext } from './grpc-trace.ts';
export {
  counter,
  gauge,
  histogram,
  metricsRegistry,
  requestMetrics,
  timedCall,
  UPSTREAM_BUCKETS,
  type Metered,
  type RequestMetrics,
} from './metrics.ts';
export type { Registry } from 'prom-client';
export { startHealthServer, type HealthCheck, type HealthServer } from './health.ts';
export { onShutdown, shutdownNow, configureShutdown, resetShutdownForTests, type ShutdownStep, type ShutdownOptions } from './shutdown.ts';
export { runService, type RunServiceOptions, type RunningService } from './runtime.ts';
export { secretDigest } from './secrets.ts';
export { EmbeddingsEncoder, type EmbeddingsEncoderOptions } from './embeddings.ts';
export {
  stageClient,
  serveStage,
  stageName,
  stageSubject,
  publishEvent,
  subscribeEvent,
  consumeEvent,
  type StageClient,
  type StageHandlers,
  type StageDefinition,
  type StageMethod,
  type ServeStageOptions,
  type Topic,
} from './stage.ts';
