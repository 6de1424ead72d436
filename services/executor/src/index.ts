// @moma/executor: runs decisions against OpenAI-compatible providers and A2A agents, streaming over gRPC.
export { startExecutor } from './app.ts';
export { loadExecutorConfig, parseProviders, type ExecutorConfig, type ExecutorEnvConfig, type ProviderConfig, type ProviderConfigInput } from './config.ts';
