export { startOrchestrator, type OrchestratorHandle, type OrchestratorOptions } from './app.ts';
export { loadOrchestratorConfig, orchestratorConfigSchema, type OrchestratorConfig } from './config.ts';
export { AgentRegistry, AGENT_KEY_PREFIX } from './registry.ts';
export { sessionKey, type SessionRecord } from './session.ts';
