// @moma/executor: runs decisions against OpenAI-compatible providers and A2A agents, streaming over gRPC.
export { startExecutor } from './app.ts';
export { executorConfigSchema, loadExecutorConfig, parseProviders, providerSchema, type ExecutorConfig, type ExecutorEnvConfig, type ProviderConfig, type ProviderConfigInput } from './config.ts';
// What `moma profile` reuses to call a pool: the provider registry (model → deployments, one client each), the typed
// chat call and the cost of a call from the configured prices.
export { ProviderRegistry, type ResolvedModel } from './providers.ts';
export { callLlm, type ChatInput, type CallResult } from './llm-call.ts';
export { costUsd } from './accounting.ts';
