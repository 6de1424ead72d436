// @moma/core: pure routing logic (no I/O). Services, the CLI and the benchmarks all call it.
export * from './errors.ts';
export * from './encoder/index.ts';
export * from './metrics/index.ts';
export * from './llm/index.ts';
export * from './agents/index.ts';
export * from './rules/index.ts';
