// The scoring service's settings; the only reader of process.env in this service.
import { fileURLToPath } from 'node:url';
import { commonConfigSchema, envPort, loadConfig, type Env } from '@moma/platform';
import { z } from 'zod';

/** The committed default artifact, so a fresh clone routes with a trained router. */
export const DEFAULT_ARTIFACT_DIR = fileURLToPath(new URL('../../../artifacts/default', import.meta.url));

export const scoringConfigSchema = commonConfigSchema.extend({
  /** Directory holding manifest.json + weights.bin of the LLM router artifact. */
  MOMA_ARTIFACT_DIR: z.string().default(DEFAULT_ARTIFACT_DIR),
  HEALTH_PORT: envPort(9103),
});

export type ScoringConfig = z.output<typeof scoringConfigSchema>;

export function loadScoringConfig(env: Env = process.env): Readonly<ScoringConfig> {
  return loadConfig(scoringConfigSchema, env);
}
