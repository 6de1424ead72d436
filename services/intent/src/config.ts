// The intent service's settings; the only reader of process.env in this service.
import { commonConfigSchema, envBool, envInt, envPort, loadConfig, type Env } from '@moma/platform';
import { z } from 'zod';

export const intentConfigSchema = commonConfigSchema.extend({
  /** Top-down taxonomy (JSON, see config/README.md); unset = bottom-up clusters of the agents' skills only. */
  MOMA_TAXONOMY_FILE: z.string().optional(),
  HEALTH_PORT: envPort(9101),
  /** Build the agent index in a worker thread, so a rebuild (seconds for ~150 agents) never stalls requests. */
  MOMA_INTENT_INDEX_WORKER: envBool(true),
  /** How often to check the registry version in case an announcement was missed; 0 = never. */
  MOMA_REGISTRY_RESYNC_MS: envInt(30_000),
});

export type IntentConfig = z.output<typeof intentConfigSchema>;

export function loadIntentConfig(env: Env = process.env): Readonly<IntentConfig> {
  return loadConfig(intentConfigSchema, env);
}
