// Where tests find NATS and Redis, and a real OTLP receiver: owned by @moma/platform (whose own tests need them)
// and re-exported here, so test code has one kit to import.
export * from '@moma/platform/testing';
export * from './fake-openai.ts';
export * from './a2a-agent.ts';
export * from './prefixed-bus.ts';
export * from './test-registry.ts';
