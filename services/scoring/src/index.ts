export { startScoring, type ScoringHandle } from './app.ts';
export { loadScoringConfig, scoringConfigSchema, DEFAULT_ARTIFACT_DIR, type ScoringConfig } from './config.ts';
export { loadRouter } from './artifact.ts';
