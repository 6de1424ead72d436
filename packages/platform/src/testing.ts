// @moma/platform/testing: test infrastructure, never loaded by production code. Where integration tests find NATS
// and Redis (env, local defaults, or a testcontainers container), and a real OTLP/HTTP receiver. Platform's own
// tests use them; @moma/testkit re-exports them for everyone else.
export * from './test-support/infra.ts';
export * from './test-support/otlp-receiver.ts';
export { freePort } from './test-support/local-server.ts';
