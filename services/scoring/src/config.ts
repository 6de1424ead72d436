// The scoring service's settings; the only reader of process.env in this service.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { commonConfigSchema, ConfigError, envPort, loadConfig, type Env, serviceHealthPort, withServiceHealthPort } from '@moma/platform';
import { z } from 'zod';

/** The committed default artifact, so a fresh clone routes with a trained router. */
export const DEFAULT_ARTIFACT_DIR = fileURLToPath(new URL('../../../artifacts/default', import.meta.url));

export const scoringConfigSchema = commonConfigSchema.extend({
  /** Directory holding manifest.json + weights.bin of the LLM router artifact. */
  MOMA_ARTIFACT_DIR: z.string().default(DEFAULT_ARTIFACT_DIR),
  HEALTH_PORT: envPort(9103),
  ...serviceHealthPort('scoring', 9103),
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

/** The providers' model lists (the same MOMA_PROVIDERS the executor reads; only `name` and `models` matter here). */
const providerModels = z.array(z.object({ name: z.string(), models: z.array(z.string()) }).loose());

/**
 * What the configured providers serve: model → provider name, or 'any' when a provider serves every model ("*") or
 * no provider config is given (then every model the artifact knows is routable, as before).
 */
export function servedModels(env: Env): Map<string, string> | 'any' {
  const text = env.MOMA_PROVIDERS ?? (env.MOMA_PROVIDERS_FILE ? readFileSync(env.MOMA_PROVIDERS_FILE, 'utf8') : undefined);
  if (!text) return 'any';
  let list: z.output<typeof providerModels>;
  try {
    list = providerModels.parse(JSON.parse(text));
  } catch (err) {
    throw new ConfigError(`MOMA_PROVIDERS: must be a JSON array of {name, models, ...} (${(err as Error).message})`, ['MOMA_PROVIDERS']);
  }
  if (list.some((p) => p.models.includes('*'))) return 'any';
  const served = new Map<string, string>();
  for (const p of list) for (const m of p.models) if (!served.has(m)) served.set(m, p.name);
  return served;
}

export type ScoringConfig = z.output<typeof scoringConfigSchema> & {
  /** What the configured providers serve (servedModels): the pool is the artifact's models that are served. */
  served: Map<string, string> | 'any';
};

export function loadScoringConfig(env: Env = process.env): Readonly<ScoringConfig> {
  return Object.freeze({ ...loadConfig(scoringConfigSchema, withServiceHealthPort(env, 'scoring')), served: servedModels(env) });
}
