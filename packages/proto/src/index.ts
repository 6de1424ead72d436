// The wire contract, generated from proto/moma/v1 by ts-proto (run `pnpm gen`; never edit src/gen).
export * from './gen/moma/v1/common.ts';
export * from './gen/moma/v1/agents.ts';
export * from './gen/moma/v1/keys.ts';
export * from './gen/moma/v1/router.ts';
export * from './gen/moma/v1/stages.ts';
export * from './gen/moma/v1/executor.ts';
export * from './gen/moma/v1/events.ts';
export { Topics } from './topics.ts';
export { ExecutorErrorMetadata } from './executor-errors.ts';
