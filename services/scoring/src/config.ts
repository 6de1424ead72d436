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
  /**
   * What each model can do, as JSON: {"<model>": ["tools", "vision", "json"], ...}. A request that needs one of
   * these is routed only to models listed with it; a model not listed here is taken to have them all, so without
   * this setting nothing is filtered.
   */
  MOMA_MODEL_CAPABILITIES: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (!text) return {};
      try {
        return z.record(z.string(), z.array(z.enum(['tools', 'vision', 'json']))).parse(JSON.parse(text));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `must be JSON like {"gpt-4o":["tools","vision","json"]} (${(err as Error).message})` });
        return z.NEVER;
      }
    }),
});

export type ScoringConfig = z.output<typeof scoringConfigSchema>;

export function loadScoringConfig(env: Env = process.env): Readonly<ScoringConfig> {
  return loadConfig(scoringConfigSchema, env);
}
