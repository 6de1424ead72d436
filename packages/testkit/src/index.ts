export * from './infra.ts';
export * from './otlp-receiver.ts';
export * from './fake-openai.ts';
export * from './a2a-agent.ts';
export * from './prefixed-bus.ts';
